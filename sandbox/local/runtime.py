"""The inside of one local Lambda execution environment (`python -m sandbox.local.runtime`).

The parent (sandbox.local.invoker) starts one process per warm container, with the function's own
environment, as Lambda does. Protocol: one JSON request per line on stdin, one JSON response per line
on the original stdout. Everything the handler prints or logs goes to stderr, which the parent relays
as the function's log stream; a sentinel line marks the end of each invocation's logs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

END_OF_INVOCATION = "\x1e@@sandbox-end@@"


class LambdaContext:
    """The attributes and method of the Python runtime's context object that handlers use."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ["SANDBOX_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request_id
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def load_handler(task_root: Path, handler: str, module_name: str) -> Any:
    """Import `module.function` from `task_root` by file path, under a name unique to the function."""
    module_path, _, function_name = handler.rpartition(".")
    relative = Path(*module_path.replace("/", ".").split("."))
    file = task_root / relative.with_suffix(".py")
    if not file.exists():
        file = task_root / relative / "__init__.py"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"Unable to import module '{module_path}': no file {file}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, function_name)


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _serve(protocol: TextIO) -> None:
    task_root = Path(os.environ["LAMBDA_TASK_ROOT"])
    # Lambda puts the task root first on sys.path, so a handler may import its sibling modules.
    sys.path.insert(0, str(task_root))
    handler: Any = None
    init_error: dict[str, Any] | None = None
    try:
        handler = load_handler(task_root, os.environ["_HANDLER"], os.environ["SANDBOX_MODULE_NAME"])
    except Exception as exc:
        traceback.print_exc()
        init_error = _error(exc, "Runtime.ImportModuleError")
    sys.stdout.flush()
    # The init phase is over: Lambda starts the function timeout only now.
    protocol.write(json.dumps({"ready": True}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        request = json.loads(line)
        response: dict[str, Any] = {"requestId": request["requestId"]}
        if init_error is not None:
            response["error"] = init_error
        else:
            try:
                context = LambdaContext(request["requestId"], request["deadlineMs"])
                result = handler(request["event"], context)
            except Exception as exc:
                print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
                traceback.print_exc()
                response["error"] = _error(exc)
            else:
                try:
                    response["result"] = json.dumps(result)
                except (TypeError, ValueError) as exc:
                    response["error"] = _error(exc, "Runtime.MarshalError")
        sys.stdout.flush()
        print(END_OF_INVOCATION, file=sys.stderr, flush=True)
        protocol.write(json.dumps(response) + "\n")
        protocol.flush()


def main() -> None:
    # Ctrl-C reaches the whole process group; the local stack decides when containers end (EOF).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # handler output (print, Powertools Logger on stdout) joins the log stream
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _serve(protocol)


if __name__ == "__main__":
    main()
