"""`python -m bench`: run every benchmark module in this package, one after another."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    failed = 0
    for module in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])):
        if module.startswith("_"):
            continue
        print(f"== bench.{module}", flush=True)
        try:
            importlib.import_module(f"bench.{module}").main()
        except Exception as error:  # one broken benchmark must not hide the others' figures
            failed += 1
            print(f"bench.{module} failed: {error!r}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
