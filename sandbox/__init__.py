"""The sandbox: emulators of Bitrix24 REST and 1C:УНФ OData, and the local stack.

Never deployed to AWS. `python -m sandbox` (make sandbox) starts everything; `sandbox.demo` walks
the flows. Default addresses are the sandbox contract (docs/sandbox.md).
"""
