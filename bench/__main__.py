"""`python -m bench [--quick] [module …]`: run the benchmark modules in this package, one after another.

`--quick` (or BENCH_QUICK=1, `make bench-quick`) asks each module for its bounded variant: P1 on a
4× clock instead of the real rate, the operating-time load on an 8× clock, P5 without a new
`sam build` when one exists; P3 (`deals_load`, 100 deals on the local stack) is already bounded and
runs the same either way. Naming modules runs only those.

Whatever ran, the last lines are one table of issue 15's goals, read from each module's json in
bench/results/ (so a goal not measured in this run shows its last figure and that figure's date):
P1 per size ours/peer and ours/ceiling, the operating-time load's blocked calls, P3, P5 per
function against 300 ms and 15 MB, and where P6 lives. `python -m bench summary` prints the table
alone.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
P1_PEER, P1_CEILING_10000 = 1.0, 1.03  # ours/peer at most 1; at 10,000 ours/ceiling at most 1.03
P3_WALL_S, P3_B24_PER_DEAL, P3_ONEC_PER_DEAL = 10.0, 2.0, 6.0
P5_IMPORT_MS, P5_ZIP_MB = 300.0, 15.0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["summary"]:
        print(summary())
        return 0
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
    print(summary(), flush=True)
    return 1 if failed else 0


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    try:
        return dict(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError):
        return None


def _mark(ok: bool | None) -> str:
    return "–" if ok is None else "✓" if ok else "✗"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def summary() -> str:
    """Issue 15's goals, one line each, from the newest results json of each benchmark."""
    lines = ["", "== issue 15 goals (figures from bench/results/*.json)", f"{'goal':<34} {'figure':<58} ok"]

    def row(goal: str, figure: str, ok: bool | None) -> None:
        lines.append(f"{goal:<34} {figure:<58} {_mark(ok)}")

    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    p1 = _load("catalog_load_x4.json" if quick else "catalog_load.json") or _load("catalog_load.json")
    if p1 is None:
        row("P1 initial load", "not measured (python -m bench catalog_load)", None)
    else:
        row(
            "P1 measured",
            f"{p1.get('date', '?')}, clock ×{p1.get('speed', 1):g}, load {p1.get('load_avg')}",
            None,
        )
        for run in p1.get("runs", []):
            size, ours = run["size"], run["ours"]
            vs_peer, vs_ceiling = run.get("ours_vs_peer"), run.get("ours_vs_ceiling")
            peer = run.get("fast_bitrix24") or {}
            peer_text = f"peer {peer['elapsed_s']:.2f} s" if vs_peer is not None else "peer did not finish"
            ok = (vs_peer is None or vs_peer <= P1_PEER) and (
                size < 10_000 or vs_ceiling is None or vs_ceiling <= P1_CEILING_10000
            )
            row(
                f"P1 {size:>6} products",
                f"ours {ours['elapsed_s']:.2f} s, {ours['requests']} req, {peer_text}; "
                f"/peer {_ratio(vs_peer)} (from the first request "
                f"{_ratio(run.get('ours_from_first_request_vs_peer'))}) /ceiling {_ratio(vs_ceiling)}",
                ok,
            )
    op = _load("operating_time.json")
    if op is None:
        row("operating time, 10,000 load", "not measured (python -m bench operating_time)", None)
    else:
        ours, peer = op.get("ours", {}), op.get("fast_bitrix24") or {}
        row(
            f"operating time, {op.get('date', '?')}"[:34],
            f"ours {ours.get('blocked_429')} blocked, {ours.get('products')} products; "
            f"peer {peer.get('blocked_429')} blocked; 50,000 ≈ {op.get('projected_50000_s')} s",
            ours.get("blocked_429") == 0,
        )
    p3 = _load("deals_load.json")
    if p3 is None:
        row("P3 deals under load", "not measured (python -m bench deals_load)", None)
    else:
        latency = p3.get("event_to_order_no_s", {})
        b24, onec = p3.get("b24_calls_per_deal"), p3.get("onec_calls_per_deal")
        row(
            f"P3 {p3.get('deals')} deals, {p3.get('date', '?')}"[:34],
            f"{p3.get('wall_s')} s (≤ {P3_WALL_S:g}), p50/p95 {latency.get('p50')}/{latency.get('p95')} s, "
            f"B24 {b24}/deal, 1C {onec}/deal",
            p3.get("wall_s", 1e9) <= P3_WALL_S
            and (b24 or 0) <= P3_B24_PER_DEAL
            and (onec or 0) <= P3_ONEC_PER_DEAL,
        )
    p5 = _load("cold_start.json")
    if p5 is None:
        row("P5 cold start", "not measured (python -m bench cold_start)", None)
    else:
        for fn in p5.get("functions", []):
            cpu = fn.get("deployed_import_cpu_ms_median")
            size = fn.get("with_layer_zip_mb")
            row(
                f"P5 {fn['function']}"[:34],
                f"import as deployed {cpu} ms CPU (/300 = {_ratio(cpu / P5_IMPORT_MS if cpu else None)}), "
                f"init + first AWS use {fn.get('deployed_init_plus_first_aws_use_cpu_ms_median')} ms, "
                f"zip {size} MB (/15 = {_ratio(size / P5_ZIP_MB if size else None)})",
                cpu is not None and cpu < P5_IMPORT_MS and (size is None or size < P5_ZIP_MB),
            )
        row(
            "P5 measured",
            f"{p5.get('date', '?')}, Python {p5.get('python', '?')}, load {p5.get('load_avg')}",
            None,
        )
    row("P6 many tenants", "a plan, not code: docs/scaling.md", None)
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
