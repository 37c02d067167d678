"""`python -m bridge <command>`: the same commands as `python -m bridge.cli`."""

from bridge.cli import main

raise SystemExit(main())
