"""The test harness: everything tests share that is not a test.

- worlds: `deal_stack`, `parties_stack`, `catalog_stack`, `payments_stack` (a local stack per flow),
  `deal_world`, `catalog_world`, `parties_world` (flows in-process on `emulators`), `faults` (the
  simulated queue and crash/race proxies of the fault scenarios);
- `env` (a function's BRIDGE_* environment, the events queues), `clock` (a fake time),
  `lambda_edge` (a Lambda context, HTTP API events, generated bodies), `waiting.eventually`;
- `onec` (1C query helpers and contract samples), `b24` (shape comparison with the documented samples).

What the demo and the benchmarks use as well lives in `sandbox/world` (the one Bitrix24 REST client
`B24Rest`, `World`, `PaymentsWorld`, 1C reads). Contract fixtures: tests/contract/conftest.py.
"""
