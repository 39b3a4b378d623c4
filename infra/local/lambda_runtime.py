"""A local Lambda runtime behind the standard Invoke API, with Lambda's isolation and limits.

``POST /2015-03-31/functions/<name or ARN>/invocations`` runs the handler declared for that
function in the catalog, in a worker process of that function, never on the emulator's threads:

* each function's workers start with the environment its declared needs give it (not the
  emulator's), import their handler once and stay warm for the next invocations, like Lambda's
  execution environments;
* the declared timeout is enforced: the worker is killed and the invocation answers as Lambda does
  (``X-Amz-Function-Error: Unhandled``, ``errorType`` ``Sandbox.Timedout``, "Task timed out after
  N seconds"), which Step Functions reports under that error name;
* a worker that dies answers ``Runtime.ExitError``, a handler that cannot be imported
  ``Runtime.ImportModuleError``;
* at most ``concurrency`` invocations of a function run at once; the next one is throttled with
  429 ``TooManyRequestsException`` (Step Functions: ``Lambda.TooManyRequestsException``);
* a handler that raises answers 200 with ``X-Amz-Function-Error: Unhandled`` and the error payload,
  exactly as Lambda does, so Step Functions sees the same error names locally and in AWS.

Fault injection (like AWS FIS for Lambda): ``POST /_local/faults`` with
``{"function": name, "errorType": "...", "errorMessage": "...", "count": n, "match": {...}}`` makes
the next ``n`` invocations of that function fail with that error, without running the handler.
``match`` (optional) limits the fault to invocations whose payload has those top-level values, so
a test can target its own execution while others run.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger

from infra.local.usage import Usage

logger = Logger(service="lms-local-lambda")

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations/?$")
FAULTS_PATH = "/_local/faults"
ACCOUNT_ID = "123456789012"
# Lambda gives a function's init 10 s; a cold Python worker on a busy laptop needs some slack.
INIT_TIMEOUT_SECONDS = 30.0
# Local default when a function declares no reserved concurrency: workers are whole processes here.
DEFAULT_CONCURRENCY = 10
# Cold starts of one function at a time; more requests wait for a warm worker or a start slot.
MAX_COLD_STARTS = 2
# A warm worker unused this long is stopped, as Lambda reclaims idle execution environments.
IDLE_SECONDS = 300.0


@dataclass
class LambdaContext:
    """What Powertools and handlers read from a Lambda context."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    deadline: float = 0.0  # time.monotonic() of the worker process

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class FunctionConfig:
    """A function as the runtime runs it; ``environment`` is read when a worker starts."""

    handler: str
    timeout_seconds: float = 30
    memory_mb: int = 256
    concurrency: int = DEFAULT_CONCURRENCY
    environment: Callable[[], dict[str, str]] = field(default=lambda: {})


@dataclass
class Fault:
    error_type: str
    error_message: str
    remaining: int
    match: dict[str, Any] | None = None
    # The function runs and does its work, then the invocation fails (Lambda timed out or crashed
    # before answering): what a task looks like when it fails after its write committed.
    after_work: bool = False

    def applies_to(self, event: Any) -> bool:
        if not self.match:
            return True
        return isinstance(event, dict) and all(event.get(k) == v for k, v in self.match.items())


def function_arn(name: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"


def function_name_of(name_or_arn: str) -> str:
    name_or_arn = unquote(name_or_arn)
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn


Response = tuple[int, dict[str, str], bytes]


class InvocationTimedOutError(Exception):
    pass


class WorkerExitedError(Exception):
    pass


# Imported once by the zygote, before any function's environment exists: libraries only (they read
# no configuration at import time), never the product's modules.
PRELOADED = (
    "boto3",
    "botocore.client",
    "botocore.session",
    "pydantic",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.utilities.typing",
)


class _Zygote:
    """A single-threaded process that has imported the heavy libraries and forks workers on demand.

    Forking the multi-threaded emulator is unsafe, and spawning a fresh interpreter per worker costs
    a second of CPU per cold start (a burst of purchases would start dozens at once). A fork of this
    process is a fresh execution environment in a few milliseconds that still imports its own
    handler under its own environment.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_zygote, args=(child,), name="lambda-zygote", daemon=True)
        self._process.start()
        child.close()
        self._lock = threading.Lock()

    def fork(self, handler: str, environment: dict[str, str]) -> tuple[int, Connection]:
        with self._lock:
            self._connection.send((handler, environment))
            handle = reduction.recv_handle(self._connection)
            pid: int = self._connection.recv()
        return pid, Connection(handle)

    def stop(self) -> None:
        self._connection.close()
        self._process.kill()
        self._process.join(timeout=5)


def _zygote(connection: Connection) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps workers that exit
    for module in PRELOADED:
        importlib.import_module(module)
    while True:
        try:
            handler, environment = connection.recv()
        except EOFError:  # the runtime went away
            return
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.close()
            connection.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _serve(Connection(theirs.detach()), handler, environment)
            finally:
                os._exit(0)
        theirs.close()
        reduction.send_handle(connection, ours.fileno(), pid)
        connection.send(pid)
        ours.close()


class _Worker:
    """One warm execution environment: a process that imported the handler and serves invocations."""

    def __init__(self, zygote: _Zygote, config: FunctionConfig) -> None:
        # Each execution environment has its own /tmp in Lambda: scratch files (a video being
        # transcoded) never meet another worker's, and go when the worker goes.
        self._tmp = tempfile.mkdtemp(prefix="lms-lambda-")
        environment = {**config.environment(), "TMPDIR": self._tmp}
        self._pid, self._connection = zygote.fork(config.handler, environment)
        self.last_used = time.monotonic()
        self.init_error = self._receive(INIT_TIMEOUT_SECONDS)

    def invoke(self, event: bytes, context: dict[str, Any], timeout: float) -> tuple[bool, bytes]:
        self._connection.send((event, context))
        ok, body = self._receive(timeout) or (False, b"")
        self.last_used = time.monotonic()
        return ok, body

    def _receive(self, timeout: float) -> Any:
        try:
            if not self._connection.poll(timeout):
                self.stop()
                raise InvocationTimedOutError
            return self._connection.recv()
        except (EOFError, OSError) as error:
            self.stop()
            raise WorkerExitedError from error

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        self._connection.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _serve(connection: Connection, handler: str, environment: dict[str, str]) -> None:
    """The worker process: the declared environment, one import, then one invocation at a time."""
    os.environ.clear()
    os.environ.update(environment)
    tempfile.tempdir = None  # read TMPDIR again: the zygote may have cached its own
    try:
        module_name, _, attribute = handler.rpartition(".")
        function = getattr(importlib.import_module(module_name), attribute)
    except Exception as error:  # noqa: BLE001 - reported as Lambda reports an init failure
        connection.send((False, _error_payload("Runtime.ImportModuleError", f"{handler}: {error}", [])))
        return
    connection.send(None)
    while True:
        try:
            event, fields = connection.recv()
        except EOFError:  # the runtime went away
            return
        deadline = time.monotonic() + fields.pop("timeout_seconds")
        try:
            result = function(json.loads(event) if event else {}, LambdaContext(**fields, deadline=deadline))
            connection.send((True, json.dumps(result, default=str).encode()))
        except Exception as error:  # noqa: BLE001 - reported to the caller exactly like Lambda does
            stack = traceback.format_exception(error)
            connection.send((False, _error_payload(type(error).__name__, str(error), stack)))


class _Function:
    """A function's warm workers and its concurrency count."""

    def __init__(self, name: str, config: FunctionConfig, zygote: _Zygote) -> None:
        self.name, self.config, self.zygote = name, config, zygote
        self.idle: list[_Worker] = []
        self.running: set[_Worker] = set()
        self.busy = 0
        self.starting = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def acquire(self) -> bool:
        with self.lock:
            if self.busy >= self.config.concurrency:
                return False
            self.busy += 1
            return True

    def take_worker(self) -> _Worker:
        """A warm worker, else a new one; while MAX_COLD_STARTS are starting, wait for either.

        A cold start here is a whole interpreter importing the handler: a burst that started one
        per request would spend the machine's CPU on imports rather than on the requests.
        """
        with self.changed:
            while not self.idle and self.starting >= MAX_COLD_STARTS:
                self.changed.wait()
            if self.idle:
                worker = self.idle.pop()
                self.running.add(worker)
                return worker
            self.starting += 1
        try:
            worker = _Worker(self.zygote, self.config)
        finally:
            with self.changed:
                self.starting -= 1
                self.changed.notify_all()
        with self.lock:
            self.running.add(worker)
        return worker

    def release(self, worker: _Worker | None, used: _Worker | None) -> None:
        """``used`` goes back to the warm pool as ``worker``, or is gone (None) if it was killed."""
        now = time.monotonic()
        with self.lock:
            self.busy -= 1
            self.running.discard(used)
            stale = [w for w in self.idle if now - w.last_used > IDLE_SECONDS]
            self.idle = [w for w in self.idle if w not in stale]
            if worker is not None:
                self.idle.append(worker)
            self.changed.notify_all()
        for old in stale:
            old.stop()

    def stop(self) -> None:
        """Stop every worker, including those running an invocation (it answers Runtime.ExitError)."""
        with self.lock:
            workers = [*self.idle, *self.running]
            self.idle, self.running = [], set()
        for worker in workers:
            worker.stop()


class LambdaRuntime:
    """Runs the declared functions by name, each in its own warm worker processes."""

    def __init__(self, functions: dict[str, FunctionConfig], region: str, usage: Usage | None = None) -> None:
        self._usage = usage  # invocations and their durations, for the cost model
        self._zygote: _Zygote | None = None
        self._functions = {name: _Function(name, config, self.zygote) for name, config in functions.items()}
        self._region = region
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    @property
    def function_names(self) -> Iterable[str]:
        return self._functions.keys()

    def register(self, name: str, config: FunctionConfig) -> None:
        with self._lock:
            previous = self._functions.get(name)
            self._functions[name] = _Function(name, config, self.zygote)
        if previous is not None:
            previous.stop()

    @property
    def zygote(self) -> _Zygote:
        if self._zygote is None:
            self._zygote = _Zygote()
        return self._zygote

    def close(self) -> None:
        """Stop every worker (the local cloud is stopping)."""
        for function in list(self._functions.values()):
            function.stop()
        if self._zygote is not None:
            self._zygote.stop()
            self._zygote = None

    def inject_fault(
        self,
        function: str,
        error_type: str,
        error_message: str,
        count: int,
        match: dict[str, Any] | None = None,
        *,
        after_work: bool = False,
    ) -> None:
        if function not in self._functions:
            raise KeyError(function)
        with self._lock:
            self._faults[function] = Fault(error_type, error_message, count, match, after_work)

    def _take_fault(self, function: str, event: Any) -> Fault | None:
        with self._lock:
            fault = self._faults.get(function)
            if not fault or not fault.applies_to(event):
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[function]
            return fault

    def invoke(self, name: str, payload: bytes) -> Response:
        """Run one invocation; returns ``(status, headers, body)`` as the Invoke API would."""
        request_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "X-Amz-Request-Id": request_id,
            "X-Amz-Executed-Version": "$LATEST",
        }
        function = self._functions.get(name)
        if function is None:
            message = f"Function not found: {function_arn(name, self._region)}"
            return _service_error(headers, 404, "ResourceNotFoundException", message)
        try:
            event = json.loads(payload) if payload else {}
        except json.JSONDecodeError:
            return _service_error(
                headers, 400, "InvalidRequestContentException", "Could not parse request body into json"
            )
        fault = self._take_fault(name, event)
        if fault and not fault.after_work:
            logger.info("injected fault", extra={"function": name, "error_type": fault.error_type})
            headers["X-Amz-Function-Error"] = "Unhandled"
            return 200, headers, _error_payload(fault.error_type, fault.error_message, [])
        if not function.acquire():
            return _service_error(headers, 429, "TooManyRequestsException", "Rate Exceeded.")
        worker: _Worker | None = None
        used: _Worker | None = None
        try:
            worker = used = function.take_worker()
            if worker.init_error is not None:
                # Like Lambda: a failed init is reported, and the next invocation starts cold again.
                worker.stop()
                (ok, body), worker = worker.init_error, None
            else:
                ok, body = self._run(function, worker, payload, request_id)
        except InvocationTimedOutError:
            worker = None
            ok, body = False, _timeout_payload(request_id, function.config.timeout_seconds)
        except WorkerExitedError:
            worker = None
            message = f"RequestId: {request_id} Error: Runtime exited without providing a reason"
            ok, body = False, _error_payload("Runtime.ExitError", message, [])
        finally:
            function.release(worker, used)
        if fault:  # after its work: the answer is lost
            logger.info("injected fault after work", extra={"function": name, "error_type": fault.error_type})
            ok, body = False, _error_payload(fault.error_type, fault.error_message, [])
        if not ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
        return 200, headers, body

    def _run(
        self, function: _Function, worker: _Worker, payload: bytes, request_id: str
    ) -> tuple[bool, bytes]:
        config = function.config
        context = {
            "function_name": function.name,
            "invoked_function_arn": function_arn(function.name, self._region),
            "aws_request_id": request_id,
            "memory_limit_in_mb": config.memory_mb,
            "log_group_name": f"/aws/lambda/{function.name}",
            "timeout_seconds": config.timeout_seconds,
        }
        started = time.perf_counter()
        answer = worker.invoke(payload, context, config.timeout_seconds)
        if self._usage is not None:  # the handler's run, as Lambda bills it (init not included)
            self._usage.invoked(function.name, (time.perf_counter() - started) * 1000, config.memory_mb)
        return answer


def _service_error(headers: dict[str, str], status: int, error_type: str, message: str) -> Response:
    headers["X-Amzn-ErrorType"] = error_type
    return status, headers, json.dumps({"Type": "User", "Message": message, "message": message}).encode()


def _timeout_payload(request_id: str, timeout_seconds: float) -> bytes:
    message = f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds"
    return _error_payload("Sandbox.Timedout", message, [])


def _error_payload(error_type: str, message: str, stack: list[str]) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": stack}).encode()
