"""Make moto's Step Functions engine (moto 5.2.5) refuse what AWS Step Functions refuses.

The local engine is lenient where AWS is not, and a workflow that only works because of that
leniency fails in AWS. Each patch below targets one moto class or function, checks that what it
replaces is still there (:func:`check_moto_internals`, run by a unit test and by :func:`apply`), and
is described in ``docs/local-cloud.md``:

* **Payload limit** (``States.DataLimitExceeded``): a task's input after ``Parameters``, a task
  result, a state's output (Map and Parallel results included) over 262,144 bytes of UTF-8 fails
  the state (moto did not check the task input). moto already raises the
  error, but its ``States.ALL`` Retry/Catch matched it; AWS never does ("a terminal error that can't
  be caught by the States.ALL error type"), and neither ``States.ALL`` nor an explicit name matches
  ``States.Runtime``. moto also refused a payload of exactly 262,144 bytes, which AWS accepts.
* **StopExecution** ends the execution at once: ABORTED with its stop date and the
  ``ExecutionAborted`` event, however long the running state would still have taken; nothing the
  abandoned state does afterwards is recorded.
* **Execution TimeoutSeconds**: TIMED_OUT with ``ExecutionTimedOut``, also while a state is still
  running (moto recorded the event only once the state finished on its own).
* **Task tokens are single-use and die with their task**: once the task that handed a token out has
  ended (answered, failed, timed out, its heartbeat missed) or its execution has stopped or timed out,
  ``SendTaskSuccess``/``SendTaskFailure``/``SendTaskHeartbeat`` with it answer ``TaskTimedOut``
  (moto accepted late answers silently, or said ``InvalidToken``). A retried attempt gets a new
  token, as in AWS.

What moto already enforces, so nothing here: a Task's ``TimeoutSeconds`` (Lambda invokes included)
and a ``.waitForTaskToken`` task's ``HeartbeatSeconds`` raise a catchable ``States.Timeout``, and
``SendTaskHeartbeat`` pushes the heartbeat deadline back.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import threading
from collections.abc import Callable
from typing import Any

MOTO_VERSION = "5.2.5"
# AWS: "Length Constraints: Maximum length of 262144", expressed as bytes in UTF-8 encoding.
MAX_PAYLOAD_BYTES = 262_144
_PARSER = "moto.stepfunctions.parser"
_QUOTA_USERS = (
    f"{_PARSER}.asl.component.state.state",
    f"{_PARSER}.asl.component.state.exec.state_task.state_task_lambda",
    f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
)
# What each patch replaces: module -> attribute path; a moto upgrade that moves one fails the check.
PATCHED = {
    f"{_PARSER}.quotas": ("is_within_size_quota", "MAX_STATE_SIZE_UTF8_BYTES"),
    f"{_PARSER}.asl.component.common.error_name.error_equals_decl": ("ErrorEqualsDecl._eval_body",),
    f"{_PARSER}.asl.component.state.exec.execute_state": ("ExecutionState._evaluate_with_timeout",),
    f"{_PARSER}.asl.component.state.exec.state_task.state_task": ("StateTask._eval_parameters",),
    f"{_PARSER}.asl.component.state.exec.state_task.state_task_lambda": ("StateTaskLambda._eval_parameters",),
    f"{_PARSER}.asl.component.common.error_name.failure_event": ("FailureEvent", "FailureEventException"),
    f"{_PARSER}.asl.component.program.program": ("Program.eval",),
    f"{_PARSER}.asl.eval.event.event_manager": ("EventManager.add_event",),
    f"{_PARSER}.asl.eval.callback.callback": (
        "CallbackPoolManager.get",
        "CallbackPoolManager.add",
        "CallbackEndpoint.report",
        "CallbackEndpoint.interrupt_all",
        "CallbackConsumerTimeout",
    ),
    f"{_PARSER}.asl.eval.states": ("ContextObject.update_task_token",),
    f"{_PARSER}.backend.execution": (
        "Execution.stop",
        "BaseExecutionWorkerCommunication._reflect_execution_status",
    ),
    "moto.stepfunctions.responses": ("StepFunctionResponse.describe_execution",),
    f"{_PARSER}.models": (
        "StepFunctionsParserBackend.send_task_success",
        "StepFunctionsParserBackend.send_task_failure",
        "StepFunctionsParserBackend.send_task_heartbeat",
        "StepFunctionsParserBackend._get_executions",
    ),
}
# Instance attributes the patches read (moto declares them on the class): (module, class, name).
READ = (
    (f"{_PARSER}.asl.eval.event.event_manager", "EventManager", "_history_event_list"),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackPoolManager", "_pool"),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackEndpoint", "consumer_error"),
    (f"{_PARSER}.asl.eval.environment", "Environment", "callback_pool_manager"),
    (f"{_PARSER}.asl.eval.environment", "Environment", "event_manager"),
    (f"{_PARSER}.backend.execution", "Execution", "exec_status"),
)
# Errors that States.ALL never matches in AWS; the second set is not matched by its own name either.
UNCATCHABLE_BY_ALL = frozenset({"States.DataLimitExceeded", "States.Runtime"})
NEVER_CAUGHT = frozenset({"States.Runtime"})
CLOSED_TOKEN = (
    "The task token has either expired or the task associated with the token has already been closed."
)
_applied = False
_seal_lock = threading.RLock()


class MotoInternalsChanged(RuntimeError):
    """The installed moto is not the one these patches were written for."""


def _module(name: str) -> Any:
    return importlib.import_module(name)


def check_moto_internals() -> None:
    """Fail loudly if the installed moto lacks what the patches replace (an upgrade moved it)."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise MotoInternalsChanged(
            f"infra/local/engine_limits.py is written for moto {MOTO_VERSION}, not {moto.__version__}: "
            "check each patch against the new engine and update MOTO_VERSION"
        )
    missing = []
    for module_name, paths in PATCHED.items():
        module = _module(module_name)
        for path in paths:
            owner: Any = module
            for part in path.split("."):
                if not hasattr(owner, part):
                    missing.append(f"{module_name}.{path}")
                    break
                owner = getattr(owner, part)
    for module_name, class_name, attribute in READ:
        if attribute not in getattr(getattr(_module(module_name), class_name, None), "__annotations__", {}):
            missing.append(f"{module_name}.{class_name}.{attribute}")
    if missing:
        raise MotoInternalsChanged(f"moto internals the engine limits patch are gone: {missing}")


def apply() -> None:
    """Patch the engine (idempotent). Call before the first execution starts."""
    global _applied
    if _applied:
        return
    check_moto_internals()
    _applied = True
    _exact_payload_limit()
    _task_input_within_payload_limit()
    _terminal_errors_escape_states_all()
    _one_token_per_attempt()
    _seal_history_when_the_execution_ends()
    _stop_ends_the_execution_now()
    _execution_timeout_ends_the_execution_now()
    _timed_out_executions_have_a_stop_date()
    _closed_tokens_are_refused()


# -- payload limit ------------------------------------------------------------------------------


def within_payload_limit(value: Any) -> bool:
    """AWS's rule: at most 262,144 bytes of the value's JSON text in UTF-8 (moto refused exactly that).

    The text is the compact JSON the history shows (moto measured it with spaces after separators).
    """
    encoding = _module(f"{_PARSER}.asl.utils.encoding")
    text = value if isinstance(value, str) else encoding.to_json_str(value, separators=(",", ":"))
    return len(text.encode("utf-8")) <= MAX_PAYLOAD_BYTES


def _exact_payload_limit() -> None:
    quotas = _module(f"{_PARSER}.quotas")
    original = quotas.is_within_size_quota
    quotas.is_within_size_quota = within_payload_limit
    for name in _QUOTA_USERS:
        module = _module(name)
        if getattr(module, "is_within_size_quota", None) is original:
            module.is_within_size_quota = within_payload_limit


def _task_input_within_payload_limit() -> None:
    """AWS: "the input of a state is larger than the payload size quota after Parameters processing"."""
    task_module = f"{_PARSER}.asl.component.state.exec.state_task"
    failure = _module(f"{_PARSER}.asl.component.common.error_name.failure_event")
    error_name = _module(f"{_PARSER}.asl.component.common.error_name.states_error_name")
    error_type = _module(f"{_PARSER}.asl.component.common.error_name.states_error_name_type")
    event_detail = _module(f"{_PARSER}.asl.eval.event.event_detail")
    api = _module(f"{_PARSER}.api")

    def checked(original: Callable[[Any, Any], dict[str, Any]]) -> Callable[[Any, Any], dict[str, Any]]:
        @functools.wraps(original)
        def _eval_parameters(self: Any, env: Any) -> dict[str, Any]:
            parameters = original(self, env)
            if within_payload_limit(parameters):
                return parameters
            limit = error_type.StatesErrorNameType.StatesStatesDataLimitExceeded
            cause = (
                f"The state/task '{self.resource.resource_arn}' has an input with a size exceeding "
                "the maximum number of bytes service limit."
            )
            raise failure.FailureEventException(
                failure_event=failure.FailureEvent(
                    env=env,
                    error_name=error_name.StatesErrorName(typ=limit),
                    event_type=api.HistoryEventType.TaskFailed,
                    event_details=event_detail.EventDetails(
                        taskFailedEventDetails=api.TaskFailedEventDetails(error=limit.to_name(), cause=cause)
                    ),
                )
            )

        return _eval_parameters

    for owner in (
        _module(f"{task_module}.state_task").StateTask,
        _module(f"{task_module}.state_task_lambda").StateTaskLambda,
    ):
        owner._eval_parameters = checked(owner._eval_parameters)


def _terminal_errors_escape_states_all() -> None:
    decl = _module(f"{_PARSER}.asl.component.common.error_name.error_equals_decl").ErrorEqualsDecl
    original: Callable[[Any, Any], None] = decl._eval_body

    @functools.wraps(original)
    def _eval_body(self: Any, env: Any) -> None:
        error = getattr(env.stack[-1], "error_name", None)
        named = {getattr(name, "error_name", None) for name in self.error_names}
        if error in NEVER_CAUGHT or (error in UNCATCHABLE_BY_ALL and error not in named):
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    decl._eval_body = _eval_body


# -- task tokens ---------------------------------------------------------------------------------


def _close(endpoint: Any) -> None:
    """No answer for this token will ever be taken again; whoever waits on it wakes up."""
    callback = _module(f"{_PARSER}.asl.eval.callback.callback")
    if endpoint.consumer_error is None:
        endpoint.report(callback.CallbackConsumerTimeout())
    endpoint.interrupt_all()


def _current_token(env: Any) -> str | None:
    task = env.states.context_object.context_object_data.get("Task") or {}
    token = task.get("Token")
    return token if isinstance(token, str) else None


def _one_token_per_attempt() -> None:
    """Each attempt of a token task has its own token, closed when the attempt ends."""
    state = _module(f"{_PARSER}.asl.component.state.exec.execute_state").ExecutionState
    original: Callable[[Any, Any], None] = state._evaluate_with_timeout

    @functools.wraps(original)
    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        token = _current_token(env)
        pool = env.callback_pool_manager
        if token is not None and (endpoint := pool.get(token)) is not None and endpoint.consumer_error:
            token = env.states.context_object.update_task_token()  # a retry: a fresh token
            pool.add(token)
        try:
            original(self, env)
        finally:
            if token is not None and (endpoint := pool.get(token)) is not None:
                _close(endpoint)

    state._evaluate_with_timeout = _evaluate_with_timeout


def _closed_tokens_are_refused() -> None:
    """A token of a task that has ended, in any execution, is ``TaskTimedOut`` (not InvalidToken)."""
    models = _module(f"{_PARSER}.models")
    api = _module(f"{_PARSER}.api")
    backend = models.StepFunctionsParserBackend

    def refuse_closed(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def send(self: Any, task_token: str, *args: Any, **kwargs: Any) -> Any:
            for execution in self._get_executions():
                env = getattr(execution.exec_worker, "env", None)
                endpoint = env.callback_pool_manager.get(task_token) if env is not None else None
                if endpoint is not None and (
                    endpoint.consumer_error is not None
                    or execution.exec_status != api.ExecutionStatus.RUNNING
                ):
                    # moto's own ``TaskTimedOut()`` lacks its message and fails with a 500.
                    raise api.TaskTimedOut(CLOSED_TOKEN, "TaskTimedOut", 400)
            return original(self, task_token, *args, **kwargs)

        return send

    for name in ("send_task_success", "send_task_failure", "send_task_heartbeat"):
        setattr(backend, name, refuse_closed(getattr(backend, name)))


# -- the end of an execution ---------------------------------------------------------------------


def _seal_history_when_the_execution_ends() -> None:
    """Once an execution has ended, what its abandoned state still does is not history."""
    manager = _module(f"{_PARSER}.asl.eval.event.event_manager").EventManager
    original: Callable[..., int] = manager.add_event

    @functools.wraps(original)
    def add_event(self: Any, *args: Any, **kwargs: Any) -> int:
        with _seal_lock:
            if getattr(self, "_lms_sealed", False):
                return len(self._history_event_list)
            return original(self, *args, **kwargs)

    manager.add_event = add_event


def _end(env: Any, event_type: Any, details: Any) -> None:
    """Record the execution's last event (unless the engine got there first) and close its tokens."""
    with _seal_lock:
        manager = env.event_manager
        if not getattr(manager, "_lms_sealed", False):
            last = manager._history_event_list[-1]["type"] if manager._history_event_list else None
            if last != event_type:
                env.event_history_context.source_event_id = 0
                manager.add_event(
                    context=env.event_history_context, event_type=event_type, event_details=details
                )
            manager._lms_sealed = True
    for endpoint in list(env.callback_pool_manager._pool.values()):
        _close(endpoint)


def _stop_ends_the_execution_now() -> None:
    execution_module = _module(f"{_PARSER}.backend.execution")
    api = _module(f"{_PARSER}.api")
    event_detail = _module(f"{_PARSER}.asl.eval.event.event_detail")
    execution = execution_module.Execution
    original_stop: Callable[..., None] = execution.stop

    @functools.wraps(original_stop)
    def stop(self: Any, stop_date: datetime.datetime, error: str | None, cause: str | None) -> None:
        was_running = self.exec_status == api.ExecutionStatus.RUNNING
        original_stop(self, stop_date=stop_date, error=error, cause=cause)
        env = getattr(self.exec_worker, "env", None)
        if not was_running or env is None:
            return
        self.exec_status = api.ExecutionStatus.ABORTED
        self.stop_date = stop_date
        details = {key: value for key, value in (("error", error), ("cause", cause)) if value}
        _end(
            env,
            api.HistoryEventType.ExecutionAborted,
            event_detail.EventDetails(
                executionAbortedEventDetails=api.ExecutionAbortedEventDetails(**details)
            ),
        )

    execution.stop = stop

    communication = execution_module.BaseExecutionWorkerCommunication
    original_reflect: Callable[[Any], None] = communication._reflect_execution_status

    @functools.wraps(original_reflect)
    def _reflect_execution_status(self: Any) -> None:
        if self.execution.exec_status != api.ExecutionStatus.RUNNING:
            return  # stopped already: what the abandoned worker ends with changes nothing
        original_reflect(self)

    communication._reflect_execution_status = _reflect_execution_status


def _execution_timeout_ends_the_execution_now() -> None:
    program_module = _module(f"{_PARSER}.asl.component.program.program")
    program_state = _module(f"{_PARSER}.asl.eval.program_state")
    api = _module(f"{_PARSER}.api")
    event_detail = _module(f"{_PARSER}.asl.eval.event.event_detail")
    program = program_module.Program
    original: Callable[[Any, Any], None] = program.eval

    @functools.wraps(original)
    def eval(self: Any, env: Any) -> None:  # noqa: A001 - moto's name
        original(self, env)
        if not env.is_frame() and isinstance(env.program_state(), program_state.ProgramTimedOut):
            _end(
                env,
                api.HistoryEventType.ExecutionTimedOut,
                event_detail.EventDetails(executionTimedOutEventDetails=api.ExecutionTimedOutEventDetails()),
            )

    program.eval = eval


def _timed_out_executions_have_a_stop_date() -> None:
    """DescribeExecution gives every ended execution its ``stopDate`` (moto left TIMED_OUT out)."""
    responses = _module("moto.stepfunctions.responses").StepFunctionResponse
    api = _module(f"{_PARSER}.api")
    original: Callable[[Any], Any] = responses.describe_execution

    @functools.wraps(original)
    def describe_execution(self: Any) -> Any:
        answer = original(self)
        described = answer.result
        if described.get("status") == api.ExecutionStatus.TIMED_OUT and "stopDate" not in described:
            execution = self.stepfunction_backend.describe_execution(described["executionArn"])
            described["stopDate"] = execution.stop_date
        return answer

    responses.describe_execution = describe_execution
