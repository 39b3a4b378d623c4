"""The Step Functions Athena integration for moto's engine (moto 5.2.5 lists Athena as unsupported).

``arn:aws:states:::athena:startQueryExecution`` (request-response) and ``...startQueryExecution.sync``
(waits for the query, like the Glue ``.sync`` moto has): the state's parameters go to the local
cloud's Athena through a boto client (so the engine's IAM statements are enforced as for any
service call), and ``.sync`` polls ``GetQueryExecution`` until the query ends. Its output is the
``GetQueryExecution`` response, as in AWS; a FAILED or CANCELLED query fails the state with
``States.TaskFailed`` and that response as the cause. infra/local/lake.py makes the local Athena
actually run the query (DuckDB over the local lake).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
# The parameters Step Functions passes on, per optimised Athena action (as AWS documents them).
_PARAMETERS: dict[str, set[str]] = {
    "startqueryexecution": {
        "QueryString",
        "ClientRequestToken",
        "QueryExecutionContext",
        "ResultConfiguration",
        "WorkGroup",
        "ExecutionParameters",
        "ResultReuseConfiguration",
    },
    "getqueryexecution": {"QueryExecutionId"},
    "getqueryresults": {"QueryExecutionId", "MaxResults", "NextToken"},
    "stopqueryexecution": {"QueryExecutionId"},
}
_installed = False
_SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"


def install() -> None:
    """Serve the Athena integration in the engine (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    service_class = _athena_service_class()
    factory = importlib.import_module(f"{_SERVICE}.state_task_service_factory")
    task_factory = importlib.import_module(
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_factory"
    )
    original: Callable[[str], Any] = factory.state_task_service_for

    def state_task_service_for(service_name: str) -> Any:
        return service_class() if service_name == "athena" else original(service_name)

    setattr(factory, "state_task_service_for", state_task_service_for)  # noqa: B010
    setattr(task_factory, "state_task_service_for", state_task_service_for)  # noqa: B010


def _athena_service_class() -> type:
    callback = importlib.import_module(f"{_SERVICE}.state_task_service_callback")
    resource = importlib.import_module(f"{_SERVICE}.resource")
    boto = importlib.import_module("moto.stepfunctions.parser.asl.utils.boto_client")
    api = importlib.import_module("moto.stepfunctions.parser.api")
    failure = importlib.import_module(
        "moto.stepfunctions.parser.asl.component.common.error_name.failure_event"
    )
    states_error = importlib.import_module(
        "moto.stepfunctions.parser.asl.component.common.error_name.states_error_name"
    )
    states_error_type = importlib.import_module(
        "moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type"
    )
    event_detail = importlib.import_module("moto.stepfunctions.parser.asl.eval.event.event_detail")
    encoding = importlib.import_module("moto.stepfunctions.parser.asl.utils.encoding")

    def client(runtime_part: Any, credentials: Any) -> Any:
        return boto.boto_client_for(
            service="athena", region=runtime_part.region, state_credentials=credentials
        )

    class StateTaskServiceAthena(callback.StateTaskServiceCallback):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__(
                supported_integration_patterns={
                    resource.ResourceCondition.Sync,
                    resource.ResourceCondition.WaitForTaskToken,
                }
            )

        def _get_supported_parameters(self) -> set[str] | None:
            return _PARAMETERS.get(self.resource.api_action.lower())

        def _eval_service_task(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> None:
            action = self._get_boto_service_action()
            response = getattr(client(resource_runtime_part, state_credentials), action)(
                **normalised_parameters
            )
            response.pop("ResponseMetadata", None)
            env.stack.append(json.loads(json.dumps(response, default=str)))

        def _build_sync_resolver(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> Callable[[], Any]:
            started: dict[str, Any] = env.stack.pop()
            athena = client(resource_runtime_part, state_credentials)

            def resolve() -> Any:
                execution = athena.get_query_execution(QueryExecutionId=started["QueryExecutionId"])
                execution.pop("ResponseMetadata", None)
                execution = json.loads(json.dumps(execution, default=str))  # its times, as text
                state = execution["QueryExecution"]["Status"]["State"]
                if state not in _TERMINAL:
                    return None
                if state == "SUCCEEDED":
                    return execution
                name = states_error_type.StatesErrorNameType.StatesTaskFailed
                raise failure.FailureEventException(
                    failure.FailureEvent(
                        env=env,
                        error_name=states_error.StatesErrorName(typ=name),
                        event_type=api.HistoryEventType.TaskFailed,
                        event_details=event_detail.EventDetails(
                            taskFailedEventDetails=api.TaskFailedEventDetails(
                                resource=self._get_sfn_resource(),
                                resourceType=self._get_sfn_resource_type(),
                                error=name.to_name(),
                                cause=encoding.to_json_str(execution),
                            )
                        ),
                    )
                )

            return resolve

    return StateTaskServiceAthena
