"""What the demo, the benchmarks and the tests share to drive the sandbox: the Bitrix24 REST
client (`rest`), in-process worlds for the deal and payments flows (`deals`, `payments`) and 1C
queries (`onec`). Demo-only steps stay in `sandbox.demo_steps`; test-only harness in tests/harness."""
