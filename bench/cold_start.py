"""P5: cold start per function — import time and deployed package size.

    python -m bench.cold_start [--runs 5] [--no-build]

Import time: a fresh `python -X importtime -c "import app"` per run, in the function's folder with
the layer's code on the path, as Lambda imports the handler module during init; the figure is the
cumulative time of the `app` module, median of `--runs` (5). The environment is the one a deployed
function gets (POWERTOOLS_*, BRIDGE_* names), without credentials: nothing is called.
It is measured two ways:
- **as deployed** (the headline figure): the runtime set (requirements/runtime.txt alone, in
  .venv/runtime-set, built here with uv: the layer's packages plus boto3, i.e. what a deployed
  function can import) and a copy of the bridge package, both with the bytecode the layer ships
  (`make -f shared/Makefile bytecode`: hash-based .pyc). /opt is read-only in Lambda, so this is
  what every cold start loads;
- **from source** (the dev venv with `shared/` on the path, no bytecode read for any module, the
  standard library's included: `PYTHONPYCACHEPREFIX` is an empty folder): the upper bound of a
  cold start that finds no usable .pyc, near what rounds one to four reported.
They also differ where a dev-only package is picked up on import (httpx loads its CLI, and so
click and pygments, when click is installed). `--tracing-on` imports as a traced deployed function
does (LAMBDA_TASK_ROOT set, tracing not disabled: the X-Ray SDK and botocore load at init) and
writes cold_start_traced.json.

Package size: `sam build` (`make build`, .venv-sam) writes each function and the layer under
.aws-sam/build; each is zipped here (deflate, as SAM uploads it) and function + layer is what one
cold start downloads. The layer is measured twice: as built (with boto3/botocore, pinned in
requirements/runtime.txt) and without them (the copy the python3.13 runtime already carries).
Targets: < 300 ms import, < 15 MB zipped. Writes bench/results/cold_start.json.

Beside each function's import, what its first invocation adds before the first request leaves:
the AWS clients (DynamoDB, SQS, Secrets Manager) built and one secret read, answered by botocore's
Stubber (no network). "init + first AWS use" is the figure a lazy import cannot hide in.

Two more figures put the import times in context (as deployed, CPU, median of `--runs`):
- the floor: what every function must import whatever the bridge does (pydantic with one model
  built, Powertools' Logger and Metrics, which import jmespath and botocore's package);
- queue_worker init + first record, eager (as shipped: Powertools' idempotency, and with it boto3,
  imported at init) against lazy (the worker module imported inside the first invocation), the
  two interleaved: the first record builds the worker's dependencies (both flows, the boto3
  clients, no network call), so the sum is what the first event waits either way.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
RESULTS = Path(__file__).parent / "results"
BUILD = ROOT / ".aws-sam" / "build"
IMPORT_TARGET_MS = 300.0
SIZE_TARGET_MB = 15.0
AWS_SDK = ("boto3", "botocore", "s3transfer", "jmespath")  # what the runtime already provides
ENV = {
    "AWS_REGION": "eu-central-1",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "POWERTOOLS_SERVICE_NAME": "unf-b24-bridge",
    "POWERTOOLS_METRICS_NAMESPACE": "UnfB24Bridge",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "BRIDGE_TABLE_NAME": "SyncTable",
}


def functions() -> list[str]:
    return sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())


# CPU time of the import beside the wall-clock figure: on a shared machine the wall clock measures
# the neighbours too, the CPU time is close to what a Lambda with its own vCPU spends.
_PROBE = "import time; t = time.process_time(); import app; print(time.process_time() - t)"


# What no function can avoid: pydantic's machinery (one model built) and the Powertools objects
# bridge.observability creates.
_FLOOR_PROBE = (
    "import time; t = time.process_time(); from pydantic import BaseModel, SecretStr\n"
    "class M(BaseModel):\n    a: int = 1\n    b: SecretStr | None = None\n"
    "from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()\n"
    "print(time.process_time() - t)"
)
# queue_worker: init (import) and first record (the worker's wiring built, no network), CPU s.
_WORKER_PROBE = """
import sys, time
t0 = time.process_time()
if sys.argv[1] == "lazy":  # app.py with the worker module imported inside the handler
    from bridge import deps
    from bridge.handlers import Invocation, scheduled, use
else:
    import app
    from bridge import deps
t1 = time.process_time()
from bridge.pipeline.worker import Worker
Worker(deps.worker_deps())
t2 = time.process_time()
print(t1 - t0, t2 - t1)
"""
# Any function: import (init), then its first AWS use (clients built, one stubbed secret read), CPU s.
_FIRST_USE_PROBE = """
import time
t0 = time.process_time()
import app
t1 = time.process_time()
from botocore.stub import Stubber
from bridge import aws
aws.sqs_client(None)
aws.dynamodb_client(None)
stub = Stubber(aws.secretsmanager_client(None))
stub.add_response("get_secret_value", {"Name": "bench", "SecretString": "{}"}, {"SecretId": "bench"})
with stub:
    aws.read_secret("bench", None)
print(t1 - t0, time.process_time() - t1)
"""
# Settings the worker's wiring validates; placeholders, nothing is called.
_WORKER_ENV = {
    "BRIDGE_QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/123456789012/events.fifo",
    "BRIDGE_B24_WEBHOOK_URL": "https://portal.example/rest/1/placeholder000000/",
    "BRIDGE_ONEC_BASE_URL": "https://onec.example/base/odata/standard.odata/",
    "BRIDGE_ONEC_USER": "placeholder",
    "BRIDGE_ONEC_PASSWORD": "placeholder",
}


TRACING_ON = False  # --tracing-on
RUNTIME_VENV = ROOT / ".venv" / "runtime-set"  # inside .venv: ignored by git, rebuilt with it
DEPLOYED_CODE = ROOT / ".venv" / "deployed-layer"  # the bridge package with the layer's bytecode
NO_BYTECODE = ROOT / ".venv" / "no-bytecode"  # an empty pycache prefix (from source)


def runtime_python() -> str | None:
    """An interpreter with only requirements/runtime.txt installed; None (and why) when uv is missing."""
    python = RUNTIME_VENV / "bin" / "python"
    uv = ROOT / ".venv" / "bin" / "uv"
    if python.exists():
        return str(python)
    if not uv.exists():
        print("  runtime set not measured: .venv/bin/uv missing (make venv)")
        return None
    subprocess.run([str(uv), "venv", "-q", "-p", sys.executable, str(RUNTIME_VENV)], check=True)
    lock = ROOT / "requirements" / "runtime.txt"
    subprocess.run(
        [str(uv), "pip", "install", "-q", "-p", str(python), "--require-hashes", "-r", str(lock)], check=True
    )
    return str(python)


def with_layer_bytecode(python: str) -> Path:
    """The runtime set's packages and a fresh copy of the bridge package compiled as the layer
    is (shared/Makefile `bytecode`); returns the copy's folder (the layer's python/ stand-in)."""
    shutil.rmtree(DEPLOYED_CODE, ignore_errors=True)
    shutil.copytree(
        ROOT / "shared" / "bridge", DEPLOYED_CODE / "bridge", ignore=shutil.ignore_patterns("__pycache__")
    )
    packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for folder in (DEPLOYED_CODE, Path(packages)):
        subprocess.run(
            ["make", "-s", "-f", str(ROOT / "shared" / "Makefile"), "bytecode", f"DIR={folder}"],
            # The Makefile's python3 must be the runtime's version, as in `sam build`.
            env=os.environ | {"PATH": f"{Path(python).parent}:{os.environ['PATH']}"},
            check=True,
        )
    return DEPLOYED_CODE


def _env(function: str, code: Path = ROOT / "shared") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "POWERTOOLS_"))} | ENV
    # No .pyc written by one run and read by the next.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if code == ROOT / "shared":
        # From source: Python looks for bytecode only under an empty prefix, so whatever .pyc the
        # dev venv, the standard library or a developer's tree holds is not read.
        env["PYTHONPYCACHEPREFIX"] = str(NO_BYTECODE)
    if TRACING_ON:
        # As deployed with `Tracing: Active`: Powertools sees a Lambda and loads the X-Ray SDK.
        del env["POWERTOOLS_TRACE_DISABLED"]
        env["LAMBDA_TASK_ROOT"] = str(ROOT / "functions" / function)
    env["PYTHONPATH"] = str(code)
    return env


def floor_ms(python: str, code: Path) -> float:
    """CPU ms of the imports no function can avoid (`_FLOOR_PROBE`)."""
    answer = subprocess.run(
        [python, "-c", _FLOOR_PROBE],
        env=_env("queue_worker", code),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(answer.stdout.strip()) * 1000


def worker_first_record_ms(python: str, way: str, code: Path) -> tuple[float, float]:
    """(init, first record) CPU ms of queue_worker, `way` "eager" (as shipped) or "lazy"."""
    answer = subprocess.run(
        [python, "-c", _WORKER_PROBE, way],
        cwd=ROOT / "functions" / "queue_worker",
        env=_env("queue_worker", code) | _WORKER_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    init, first = (float(x) * 1000 for x in answer.stdout.split())
    return init, first


def first_aws_use_ms(function: str, python: str, code: Path) -> tuple[float, float]:
    """(init, first AWS use) CPU ms of `function` (`_FIRST_USE_PROBE`)."""
    answer = subprocess.run(
        [python, "-c", _FIRST_USE_PROBE],
        cwd=ROOT / "functions" / function,
        env=_env(function, code) | {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"},
        capture_output=True,
        text=True,
        check=True,
    )
    init, first = (float(x) * 1000 for x in answer.stdout.split())
    return init, first


def import_ms(
    function: str, python: str = sys.executable, code: Path = ROOT / "shared"
) -> tuple[float, float]:
    """(wall ms from -X importtime, CPU ms) of importing the handler module in a fresh interpreter."""
    env = _env(function, code)
    answer = subprocess.run(
        [python, "-X", "importtime", "-c", _PROBE],
        cwd=ROOT / "functions" / function,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # "import time: self [us] | cumulative | imported package"; the `app` line closes the tree.
    for line in answer.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*app$", line)
        if match:
            return int(match.group(1)) / 1000, float(answer.stdout.strip()) * 1000
    raise RuntimeError(f"no import time for {function}: {answer.stderr[-500:]}")


def zipped_mb(folder: Path, skip: tuple[str, ...] = ()) -> float:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            top = relative.parts[1] if relative.parts[0] == "python" and len(relative.parts) > 1 else ""
            if path.is_file() and not any(top == s or top.startswith(s + "-") for s in skip):
                archive.write(path, relative)
    return buffer.tell() / 1_000_000


def sam_build() -> str | None:
    """Runs `make build`; None when it worked, else the reason."""
    try:
        answer = subprocess.run(["make", "build"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if answer.returncode == 0 else (answer.stdout + answer.stderr)[-800:]


def layer_dir() -> Path | None:
    candidates = (
        [p for p in BUILD.iterdir() if p.is_dir() and (p / "python").is_dir()] if BUILD.exists() else []
    )
    return candidates[0] if candidates else None


def function_dir(function: str) -> Path | None:
    if not BUILD.exists():
        return None
    source = (ROOT / "functions" / function / "app.py").read_bytes()
    for path in BUILD.iterdir():
        if path.is_dir() and (path / "app.py").exists() and (path / "app.py").read_bytes() == source:
            return path
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true", help="measure the existing .aws-sam/build")
    parser.add_argument(
        "--tracing-on", action="store_true", help="import as a traced Lambda does (X-Ray SDK loaded)"
    )
    args = parser.parse_args(argv if argv is not None else [])
    global TRACING_ON
    TRACING_ON = args.tracing_on
    print(f"P5: cold start, import time median of {args.runs}, package zipped (targets < 300 ms, < 15 MB)")
    reuse = args.no_build or (os.environ.get("BENCH_QUICK", "") not in ("", "0") and layer_dir() is not None)
    build_error = None if reuse else sam_build()
    if build_error:
        print(f"  sam build failed: {build_error}")
    layer = layer_dir()
    layer_full = zipped_mb(layer) if layer else None
    layer_lean = zipped_mb(layer, skip=AWS_SDK) if layer else None
    rows: list[dict[str, Any]] = []
    runtime = runtime_python()
    deployed = with_layer_bytecode(runtime) if runtime else None
    shutil.rmtree(NO_BYTECODE, ignore_errors=True)
    NO_BYTECODE.mkdir(parents=True)
    for function in functions():
        times = [import_ms(function) for _ in range(args.runs)]
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        lean = (
            [import_ms(function, runtime, deployed) for _ in range(args.runs)] if runtime and deployed else []
        )
        lean_wall = statistics.median(t[0] for t in lean) if lean else None
        lean_cpu = statistics.median(t[1] for t in lean) if lean else None
        first = (
            [first_aws_use_ms(function, runtime, deployed) for _ in range(args.runs)]
            if runtime and deployed
            else []
        )
        first_use = statistics.median(t[1] for t in first) if first else None
        init_first = statistics.median(t[0] + t[1] for t in first) if first else None
        built = function_dir(function)
        own = zipped_mb(built) if built else None
        row = {
            "function": function,
            "from_source_import_ms_median": round(wall, 1),
            "from_source_import_cpu_ms_median": round(cpu, 1),
            "from_source_import_ms_runs": [round(t[0], 1) for t in times],
            "deployed_import_ms_median": round(lean_wall, 1) if lean_wall is not None else None,
            "deployed_import_cpu_ms_median": round(lean_cpu, 1) if lean_cpu is not None else None,
            "deployed_import_cpu_ms_min": round(min(t[1] for t in lean), 1) if lean else None,
            "deployed_first_aws_use_cpu_ms_median": round(first_use, 1) if first_use is not None else None,
            "deployed_init_plus_first_aws_use_cpu_ms_median": (
                round(init_first, 1) if init_first is not None else None
            ),
            "function_zip_mb": round(own, 3) if own is not None else None,
            "with_layer_zip_mb": round(own + layer_full, 2) if own is not None and layer_full else None,
            "with_lean_layer_zip_mb": round(own + layer_lean, 2) if own is not None and layer_lean else None,
        }
        rows.append(row)
        print(
            f"  P5 {function:<20} "
            + (
                f"import as deployed {lean_wall:>6.1f} ms wall, {lean_cpu:>6.1f} ms CPU "
                f"({lean_wall / IMPORT_TARGET_MS:.2f} / {lean_cpu / IMPORT_TARGET_MS:.2f} of target) | "
                if lean_wall is not None and lean_cpu is not None
                else ""
            )
            + f"from source {wall:>6.1f} ms wall, {cpu:>6.1f} ms CPU | "
            + (f"init + first AWS use {init_first:>7.1f} ms CPU | " if init_first is not None else "")
            + f"zipped function+layer {row['with_layer_zip_mb']} MB "
            f"(without the runtime's boto3: {row['with_lean_layer_zip_mb']} MB; target {SIZE_TARGET_MB:g})",
            flush=True,
        )
    context = _context(runtime or sys.executable, deployed or ROOT / "shared", args.runs)
    result = {
        "bench": "P5 cold start",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": sys.version.split()[0],
        "load_avg": round(os.getloadavg()[0], 2),  # a shared machine: CPU time is the steadier figure
        "build_error": build_error,
        "layer_zip_mb": round(layer_full, 2) if layer_full else None,
        "layer_without_aws_sdk_zip_mb": round(layer_lean, 2) if layer_lean else None,
        "tracing_on": TRACING_ON,
        "functions": rows,
        **context,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / ("cold_start_traced.json" if TRACING_ON else "cold_start.json")
    if layer is None and path.exists():
        carry_sizes(result, json.loads(path.read_text("utf-8")))
    path.write_text(json.dumps(result, indent=1), "utf-8")


SIZE_FIELDS = ("function_zip_mb", "with_layer_zip_mb", "with_lean_layer_zip_mb")


def carry_sizes(result: dict[str, Any], previous: dict[str, Any]) -> None:
    """Without a build here (`--no-build` and no .aws-sam), keep the last measured package sizes,
    marked with the run they come from: sizes change only with dependencies, imports every run."""
    if previous.get("layer_zip_mb") is None:
        return
    result["sizes_from"] = previous.get("sizes_from") or previous.get("date")
    result["layer_zip_mb"] = previous["layer_zip_mb"]
    result["layer_without_aws_sdk_zip_mb"] = previous.get("layer_without_aws_sdk_zip_mb")
    sizes = {row["function"]: row for row in previous.get("functions", [])}
    for row in result["functions"]:
        for field in SIZE_FIELDS:
            row[field] = sizes.get(row["function"], {}).get(field)


def _context(python: str, code: Path, runs: int) -> dict[str, Any]:
    """The floor and queue_worker's eager/lazy init + first record (module docstring)."""
    floor = statistics.median(floor_ms(python, code) for _ in range(runs))
    ways: dict[str, list[tuple[float, float]]] = {"eager": [], "lazy": []}
    for _ in range(runs):  # interleaved, so the neighbours' load hits both alike
        for way, samples in ways.items():
            samples.append(worker_first_record_ms(python, way, code))
    worker: dict[str, dict[str, float]] = {}
    for way, samples in ways.items():
        init = statistics.median(s[0] for s in samples)
        first = statistics.median(s[1] for s in samples)
        total = statistics.median(s[0] + s[1] for s in samples)
        worker[way] = {
            "init_cpu_ms": round(init, 1),
            "first_record_cpu_ms": round(first, 1),
            "total_cpu_ms": round(total, 1),
        }
        print(
            f"  P5 queue_worker {way:<5} init {init:>7.1f} ms + first record {first:>7.1f} ms"
            f" = {total:>7.1f} ms CPU",
            flush=True,
        )
    print(f"  P5 floor (pydantic + Powertools Logger/Metrics, no bridge code) {floor:.1f} ms CPU", flush=True)
    return {"floor_cpu_ms_median": round(floor, 1), "queue_worker_first_record": worker}


if __name__ == "__main__":
    main(sys.argv[1:])
