"""Demo steps per flow: `run(stack, say)` drives one flow through the real APIs of the sandbox."""
