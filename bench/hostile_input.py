"""CPU cost of hostile bodies on POST /b24/events against plain bodies of the same size.

`python -m bench.hostile_input [--runs N]` calls the deployed receiver handler in-process (the
Powertools-decorated Lambda handler, a fake queue, log output discarded) with ~60 KB bodies, all
in one run and interleaved (every round sends each body once), so a busy machine slows them
alike. Figures: median and p95 CPU time per request (process CPU, not wall time), the answer,
and each body's median against the plain form body of the same size. A second table decodes the
same form bodies with `php_query.decode` directly (no token check, no field cap): the `[]` appends
are linear, not quadratic. Written to bench/results/hostile_input.json.

The bar (issue 11): a hostile 60 KB body costs no more than 10× a plain 60 KB body.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from bridge.b24 import php_query
from bridge.deps import receiver_deps
from bridge.handlers import overridden
from bridge.pipeline.receiver import ReceiverDeps
from sandbox.template import load_function_handler

RESULTS = Path(__file__).parent / "results" / "hostile_input.json"
SIZE = 60_000
TOKEN = "bench-application-token"
FORM = "application/x-www-form-urlencoded"
EVENT = (
    "event=ONCRMDEALADD&event_handler_id=975&data%5BFIELDS%5D%5BID%5D=7405&ts=1766047124"
    "&auth%5Bdomain%5D=some-domain.bitrix24.com&auth%5Bapplication_token%5D="
)


def _fill(prefix: str, unit: Callable[[int], str], sep: str = "&") -> str:
    parts, size, i = [prefix], len(prefix), 0
    while size < SIZE:
        piece = unit(i)
        parts.append(piece)
        size += len(piece) + len(sep)
        i += 1
    return sep.join(parts)[:SIZE]


def bodies() -> dict[str, tuple[str, str]]:
    """name → (content type, ~60 KB body). Forged tokens unless the name says otherwise."""
    forged = EVENT + "forged"
    deep_name = "a" + "[b]" * 1000 + "=1"
    return {
        # plain: what a large but ordinary form looks like
        "plain form (event + one 60 KB field)": (FORM, forged + "&pad=" + "x" * (SIZE - len(forged) - 5)),
        "plain form (event + 180 flat fields)": (
            FORM,
            forged + "&" + "&".join(f"f{i:03}=" + "v" * 320 for i in range(180)),
        ),
        "plain JSON (event + one 60 KB string)": (
            "application/json",
            json.dumps(
                {"event": "ONCRMDEALADD", "auth": {"application_token": "forged"}, "pad": "x" * (SIZE - 80)}
            ),
        ),
        # hostile
        "hostile form a[]=&a[]=… (12,000 fields)": (FORM, _fill("a[]=", lambda i: "a[]=")),
        "hostile form a[]=… + valid token (180 appends)": (
            FORM,
            EVENT + TOKEN + "&" + "&".join("data[FIELDS][L][]=" + "v" * 280 for _ in range(180)),
        ),
        "hostile form 1,000-deep names (20 fields)": (FORM, forged + "&" + "&".join([deep_name] * 19)),
        "hostile form 4,301-digit indexes (13 fields)": (
            FORM,
            forged + "&" + "&".join(["a[" + "7" * 4301 + "]=1"] * 13),
        ),
        "hostile JSON [[[[… 60,000 deep": ("application/json", "[" * SIZE),
        'hostile JSON {"a":{"a":… 12,000 deep': ("application/json", ('{"a":' * 12_000)[:SIZE]),
    }


class _Queue:
    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        return "m"


class _Context:
    function_name = "B24EventsReceiverFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:B24EventsReceiverFunction"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _event(content_type: str, body: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /b24/events",
        "rawPath": "/b24/events",
        "rawQueryString": "",
        "headers": {"content-type": content_type},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/b24/events",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.24",
            },
            "requestId": "bench",
            "routeKey": "POST /b24/events",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _cpu(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.process_time()
    result = call()
    return time.process_time() - started, result


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="rounds; each round sends every body once")
    args = parser.parse_args()

    handler = load_function_handler("B24EventsReceiverFunction")
    deps = ReceiverDeps(sender=_Queue(), application_token=lambda: TOKEN)
    cases = bodies()
    events = {name: _event(ct, body) for name, (ct, body) in cases.items()}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    answers: dict[str, int] = {}
    sink = io.StringIO()
    for _ in range(args.runs):
        for name, event in events.items():
            with (
                contextlib.redirect_stdout(sink),
                contextlib.redirect_stderr(sink),
                overridden({receiver_deps: deps}),
            ):
                spent, response = _cpu(partial(handler, event, _Context()))
            samples[name].append(spent)
            answers[name] = response["statusCode"]
            sink.seek(0)
            sink.truncate()

    # The decoder alone, on the two form shapes that differ only in `[]` against distinct names.
    decode_cases = {
        "decode 12,000 × a[]=": _fill("a[]=", lambda i: "a[]="),
        "decode 12,000 distinct flat names": _fill("k0=", lambda i: f"k{i}="),
    }
    decode_samples: dict[str, list[float]] = {name: [] for name in decode_cases}
    for _ in range(max(args.runs // 10, 5)):
        for name, text in decode_cases.items():
            decode_samples[name].append(_cpu(partial(php_query.decode, text))[0])

    plain = statistics.median(samples["plain form (event + one 60 KB field)"])
    rows: list[dict[str, Any]] = []
    for name, runs in samples.items():
        rows.append(
            {
                "body": name,
                "bytes": len(cases[name][1].encode()),
                "status": answers[name],
                **_summary(runs),
                "× plain form": round(statistics.median(runs) / plain, 2),
            }
        )
    flat = statistics.median(decode_samples["decode 12,000 distinct flat names"])
    decode_rows = [
        {"decode": name, **_summary(runs), "× distinct names": round(statistics.median(runs) / flat, 2)}
        for name, runs in decode_samples.items()
    ]
    worst = max(float(r["× plain form"]) for r in rows if str(r["body"]).startswith("hostile"))
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
            f"Python {platform.python_version()}"
        ),
        "runs": args.runs,
        "measure": "process CPU time per request, receiver Lambda handler in-process, logs discarded",
        "requests": rows,
        "decoder": decode_rows,
        "worst_hostile_vs_plain": worst,
        "bar": "≤ 10× a plain 60 KB body",
        "met": worst <= 10,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
