"""`python -m bench [--quick] [module …]`: run the benchmark modules in this package, one after another.

`--quick` (or BENCH_QUICK=1, `make bench-quick`) asks each module for its bounded variant: P1 on a
4× clock instead of the real rate, the operating-time load on an 8× clock, P5 without a new
`sam build` when one exists; P3 (`deals_load`, 100 deals on the local stack) is already bounded and
runs the same either way. Naming modules runs only those.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--quick" in args:
        args.remove("--quick")
        os.environ["BENCH_QUICK"] = "1"
    sys.argv = sys.argv[:1]  # each module parses its own options; run from here, it takes its defaults
    failed = 0
    for module in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])):
        if module.startswith("_") or (args and module not in args):
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
