"""Run Lambda handlers as Lambda does: each warm container is its own process with the function's
own environment, one invocation at a time, a hard timeout, and a log stream.

A process per container (rather than importing every handler into the sandbox process) keeps each
function's environment and module state apart: settings are read from os.environ and cached, and
several functions each have an `app.py`.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from sandbox.local.journal import Invocation, Journal
from sandbox.local.model import FunctionSpec
from sandbox.local.runtime import END_OF_INVOCATION

log = logging.getLogger("sandbox.lambda")

# Lambda allows 10 s of init. The sandbox is not a cold-start timer (bench/cold_start.py is): on a
# busy 2-core machine several functions importing boto3 and Powertools at once took over 30 s, and a
# stack that answered 500 Runtime.InitTimeout then failed tests that had nothing to do with init.
# The bound only catches an init that hangs; SANDBOX_LAMBDA_INIT_TIMEOUT_S overrides it.
INIT_TIMEOUT_S = float(os.environ.get("SANDBOX_LAMBDA_INIT_TIMEOUT_S", "120"))

# Variables of the host that must not leak into a function: Lambda builds its environment from
# the function configuration only.
_HOST_PREFIXES_DROPPED = ("BRIDGE_", "AWS_", "POWERTOOLS_", "LAMBDA_", "_HANDLER", "_X_AMZN")

# Powertools JSON keys that repeat on every line; left out of the console echo (kept in the journal).
_NOISY_LOG_KEYS = frozenset(
    {
        "level",
        "message",
        "timestamp",
        "service",
        "location",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
        "sampling_rate",
    }
)


class FunctionError(Exception):
    """The handler raised, timed out or crashed; `payload` is Lambda's error object."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


@dataclass
class _Response:
    result: Any = None
    error: dict[str, Any] | None = None


def echo_line(line: str) -> str:
    """A Powertools JSON log line as `LEVEL message key=value`, anything else as is."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if isinstance(record, dict) and isinstance(record.get("_aws"), dict):
        names = [m["Name"] for d in record["_aws"].get("CloudWatchMetrics", []) for m in d.get("Metrics", [])]
        return "METRICS " + " ".join(f"{n}={record.get(n)}" for n in names)
    if not isinstance(record, dict) or "message" not in record:
        return line
    extras = " ".join(
        f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in record.items() if k not in _NOISY_LOG_KEYS
    )
    message = record["message"] if isinstance(record["message"], str) else json.dumps(record["message"])
    return f"{record.get('level', 'INFO')} {message}" + (f"  {extras}" if extras else "")


class _Container:
    def __init__(self, spec: FunctionSpec, env: dict[str, str], number: int) -> None:
        self.spec = spec
        self.name = f"{spec.logical_id}#{number}"
        self._responses: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._logs_done = threading.Event()
        self.current: Invocation | None = None
        self._ready = False
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from sandbox.local.runtime import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=spec.code_dir,
            env=env,
            text=True,
            encoding="utf-8",
        )
        self._threads = [
            threading.Thread(target=self._read_responses, name=f"{self.name}-out", daemon=True),
            threading.Thread(target=self._read_logs, name=f"{self.name}-log", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _read_responses(self) -> None:
        stream: IO[str] = self.process.stdout  # type: ignore[assignment]
        for line in stream:
            self._responses.put(json.loads(line))
        self._responses.put(None)

    def _read_logs(self) -> None:
        stream: IO[str] = self.process.stderr  # type: ignore[assignment]
        logger = logging.getLogger(f"sandbox.fn.{self.spec.logical_id}")
        for raw in stream:
            line = raw.rstrip("\n")
            if line == END_OF_INVOCATION:
                self._logs_done.set()
                continue
            if self.current is not None:
                self.current.logs.append(line)
            logger.info("%s", echo_line(line))
        self._logs_done.set()

    def wait_ready(self) -> dict[str, Any] | None:
        """Block until the init phase (imports, module code) is over; an error object if it died."""
        if self._ready:
            return None
        try:
            message = self._responses.get(timeout=INIT_TIMEOUT_S)
        except queue.Empty:
            self.kill()
            return {"errorType": "Runtime.InitTimeout", "errorMessage": f"init took over {INIT_TIMEOUT_S} s"}
        if message is None:
            return {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"runtime exited with status {self.process.wait()}",
            }
        self._ready = True
        return None

    def invoke(self, invocation: Invocation, timeout_s: float) -> _Response:
        self.current = invocation
        self._logs_done.clear()
        init_error = self.wait_ready()
        if init_error is not None:
            return _Response(error=init_error)
        deadline_ms = int((time.time() + timeout_s) * 1000)
        request = {"requestId": invocation.request_id, "event": invocation.event, "deadlineMs": deadline_ms}
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return _Response(error={"errorType": "Runtime.ExitError", "errorMessage": "runtime exited"})
        timeout = max(0.0, deadline_ms / 1000 - time.time())
        try:
            message = self._responses.get(timeout=timeout + 0.5)
        except queue.Empty:
            self.kill()
            seconds = self.spec.timeout_s
            return _Response(
                error={
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {seconds:.2f} seconds",
                }
            )
        if message is None:
            return _Response(
                error={
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"runtime exited with status {self.process.wait()}",
                }
            )
        self._logs_done.wait(2)  # let the log relay catch up, so the journal holds all lines
        self.current = None
        if "error" in message:
            return _Response(error=message["error"])
        return _Response(result=json.loads(message["result"]))

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait(5)

    def stop(self) -> None:
        if self.alive:
            assert self.process.stdin is not None
            try:
                self.process.stdin.close()  # the runtime loop ends on EOF
                self.process.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


class FunctionRuntime:
    """The warm containers of one function; a busy container makes a new one (Lambda scales out)."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str]) -> None:
        self.spec = spec
        self.env = env
        self._idle: list[_Container] = []
        self._all: list[_Container] = []
        self._lock = threading.Lock()
        self._stopped = False

    def _acquire(self) -> _Container:
        with self._lock:
            if self._stopped:
                raise RuntimeError("local stack is stopping")
            while self._idle:
                container = self._idle.pop()
                if container.alive:
                    return container
            container = _Container(self.spec, self.env, len(self._all) + 1)
            self._all.append(container)
            log.info("%s: cold start (container %s)", self.spec.logical_id, container.name)
            return container

    def _release(self, container: _Container) -> None:
        with self._lock:
            if container.alive and not self._stopped:
                self._idle.append(container)
            else:
                container.stop()

    def invoke(self, invocation: Invocation) -> _Response:
        container = self._acquire()
        try:
            return container.invoke(invocation, self.spec.timeout_s)
        finally:
            self._release(container)

    def prewarm(self) -> None:
        """Start one container now, so its init overlaps the stack's own start-up."""
        container = self._acquire()
        self._release(container)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            containers, self._all, self._idle = self._all, [], []
        for container in containers:
            container.stop()


def _module_name(spec: FunctionSpec) -> str:
    """Unique per function: several functions each have an `app.py`."""
    module = spec.handler.rpartition(".")[0].replace("/", "_").replace(".", "_")
    return f"lambda_{spec.logical_id}_{module}"


def function_environment(
    spec: FunctionSpec, variables: dict[str, str], *, region: str, function_arn: str
) -> dict[str, str]:
    """The host's neutral variables (PATH, the venv) plus what Lambda sets plus the function's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_HOST_PREFIXES_DROPPED)}
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            # What `sam local` sets; Powertools then skips X-Ray.
            "AWS_SAM_LOCAL": "true",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "SANDBOX_FUNCTION_ARN": function_arn,
            "SANDBOX_MODULE_NAME": _module_name(spec),
            "PYTHONUNBUFFERED": "1",
            "TZ": ":UTC",
        }
    )
    env.update(variables)
    return env


class Invoker:
    """Invokes functions by logical id and writes every invocation to the journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.runtimes: dict[str, FunctionRuntime] = {}

    def add(self, runtime: FunctionRuntime) -> None:
        self.runtimes[runtime.spec.logical_id] = runtime

    def invoke(
        self,
        function: str,
        event: Any,
        *,
        trigger: str,
        source: str,
        after: Callable[[Invocation], None] | None = None,
    ) -> Invocation:
        """Run `function` on `event`; never raises for function errors (see `outcome`/`error`).
        `after` completes the record (what the trigger did with the result) before waiters see it."""
        runtime = self.runtimes[function]
        invocation = self.journal.open(function, trigger, source, str(uuid.uuid4()), event)
        started = time.monotonic()
        response = runtime.invoke(invocation)
        invocation.duration_ms = (time.monotonic() - started) * 1000
        invocation.result = response.result
        invocation.error = response.error
        if response.error is None:
            invocation.outcome = "ok"
        else:
            invocation.outcome = "timeout" if response.error["errorType"] == "Sandbox.Timedout" else "error"
        try:
            if after is not None:
                after(invocation)
        finally:
            self.journal.close(invocation)
        return invocation

    def stop(self) -> None:
        for runtime in self.runtimes.values():
            runtime.stop()
