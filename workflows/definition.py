"""What a workflow is, declared once: its ASL file, trigger, timeout, alarms and task functions.

The CDK construct (``infra/workflow.py``) and the local cloud (``infra/local/cloud.py``) both build a
workflow from these declarations alone. Everything derivable from one name is derived: a task
``TaskFunction("ValidateOrder", ...)`` of workflow ``purchase`` is the function
``lms-purchase-validate-order``, fills ``${ValidateOrderFunctionArn}`` and runs
``tasks.purchase.validate_order`` unless told otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from workflows.human_tasks import HumanTask

STATE_MACHINES_DIR = Path(__file__).resolve().parent.parent / "state-machines"


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    READ_WRITE = "read_write"


@dataclass(frozen=True)
class BucketAccess:
    """Objects of the media bucket under ``prefix`` (e.g. ``"uploads/"``), never the whole bucket.

    ``list`` lets the function list the keys under the prefix (ListBucket, narrowed to it by a
    condition); ``delete`` lets it delete objects there, or tag them for a lifecycle rule to expire (a
    workflow that must leave no orphaned objects behind, e.g. video processing cleaning up a failed
    run's outputs).
    """

    access: Access
    prefix: str
    list: bool = False
    delete: bool = False

    def __post_init__(self) -> None:
        if not self.prefix or "*" in self.prefix:
            raise ValueError("a bucket grant needs a key prefix without wildcards, e.g. 'uploads/'")


@dataclass(frozen=True)
class Needs:
    """What a function (or a state machine's direct integrations) may touch; grants come from here."""

    table: Access | None = None
    bucket: BucketAccess | tuple[BucketAccess, ...] | None = None  # one grant per prefix
    stripe_secret: bool = False
    credential_signing_key: bool = False  # reads the issuer's Ed25519 key secret (lms/credentials)
    task_callbacks: bool = False  # states:SendTaskSuccess/Failure (the task token is the credential)
    event_bus_put: bool = False
    start_workflows: tuple[str, ...] = ()  # names of workflows this function starts
    # Names of workflows whose executions this function reads and redrives (the ops API).
    inspect_workflows: tuple[str, ...] = ()
    # Email users through SES (lms.mail): ses:SendEmail from the sender identity, and the key that
    # signs unsubscribe links.
    mail: bool = False
    # Only check unsubscribe links (the API's POST /mail/unsubscribe): their key, not SES.
    mail_links: bool = False

    @property
    def bucket_grants(self) -> tuple[BucketAccess, ...]:
        if self.bucket is None:
            return ()
        return self.bucket if isinstance(self.bucket, tuple) else (self.bucket,)


@dataclass(frozen=True)
class Zip:
    """A zip package: the source packages it imports plus only these locked distributions."""

    dependencies: tuple[str, ...] = ("boto3", "pydantic", "aws-lambda-powertools")
    source_packages: tuple[str, ...] = ("lms", "tasks", "workflows")


@dataclass(frozen=True)
class ContainerImage:
    """A container image (e.g. with ffmpeg) built from a Dockerfile in the repository.

    The build context is the repository with only ``source_packages``, ``requirements.lock`` and the
    Dockerfile's folder in it; the image's command is set to the function's handler.
    """

    dockerfile: str  # relative to the repository, e.g. "containers/video/Dockerfile"
    source_packages: tuple[str, ...] = ("lms", "tasks", "workflows")


Packaging = Zip | ContainerImage


@dataclass(frozen=True)
class TaskFunction:
    """A task Lambda, named after its ASL state (PascalCase, e.g. ``"ValidateOrder"``)."""

    state: str
    needs: Needs = field(default_factory=Needs)
    handler: str = ""  # default: tasks.<workflow>.<state in snake_case>
    memory_mb: int = 512  # as the API; Lambda gives CPU in proportion
    timeout_seconds: int = 30
    ephemeral_storage_mb: int = 512
    reserved_concurrency: int | None = None  # also the local runtime's cap
    packaging: Packaging = field(default_factory=Zip)
    workflow: str = ""  # set by the Workflow that lists this function

    def __post_init__(self) -> None:
        # The SDK is imported lazily, so a package without it would only fail on the first payment.
        if (
            self.needs.stripe_secret
            and isinstance(self.packaging, Zip)
            and "stripe" not in self.packaging.dependencies
        ):
            raise ValueError(f"{self.state} needs the Stripe secret, so its package needs the stripe SDK")

    @property
    def name(self) -> str:
        return f"lms-{self.workflow}-{_kebab(self.state)}"

    @property
    def placeholder(self) -> str:
        return f"{self.state}FunctionArn"

    @property
    def construct_id(self) -> str:
        return self.state


@dataclass(frozen=True)
class ApiTrigger:
    """Started by the API (``workflows.executions.start``) with a business key."""


class TypedEvent(Protocol):
    """What a trigger needs of an event definition (``lms.events.Event`` subclasses), without
    importing it: the starter imports this module and must stay light on a cold start."""

    name: ClassVar[str]

    @classmethod
    def pattern(cls, **detail: list[Any]) -> dict[str, Any]: ...


EVENT_ID = "detail.eventId"  # the envelope's unique id (lms.events)


@dataclass(frozen=True)
class EventTrigger:
    """Started by an EventBridge rule through a starter function that names the execution.

    ``event`` is the typed event (``lms.events``) on the product's bus that starts the workflow: the
    rule's pattern is ``event.pattern(**detail)``, so producer and trigger cannot disagree on its
    source, name or schema version. For events the product does not define (S3's "Object Created"
    on the default bus), ``pattern`` is given as EventBridge takes it.

    ``business_key`` lists dotted paths into the event (``"detail.object.key"``); their values,
    joined by ``-``, are the business key, so a redelivered event finds the execution it started.
    A typed event's key defaults to its unique id (``detail.eventId``): each event runs once.
    ``bus`` is ``"lms"`` (the product's bus) or ``"default"`` (where AWS services such as S3 publish).
    ``strip_prefix`` is removed from the key first: an upload ``uploads/<lessonId>/<uploadId>`` under
    ``strip_prefix="uploads/"`` names the execution ``<workflow>-<lessonId>-<uploadId>``.
    """

    pattern: dict[str, Any] = field(default_factory=dict)
    business_key: tuple[str, ...] = ()
    bus: str = "lms"
    strip_prefix: str = ""
    event: type[TypedEvent] | None = None
    detail: dict[str, list[Any]] = field(default_factory=dict)  # narrows a typed event's pattern

    def __post_init__(self) -> None:
        if self.bus not in ("lms", "default"):
            raise ValueError(f"unknown event bus {self.bus!r}: 'lms' or 'default'")
        if self.event is not None:
            if self.pattern:
                raise ValueError("a typed event's pattern comes from the event; narrow it with detail=")
            if self.bus != "lms":
                raise ValueError(f"{self.event.name} is a product event: it is published on the 'lms' bus")
            object.__setattr__(self, "pattern", self.event.pattern(**self.detail))
            object.__setattr__(self, "business_key", self.business_key or (EVENT_ID,))
        elif self.detail:
            raise ValueError("detail= narrows a typed event's pattern; give event= too")
        if not self.pattern:
            raise ValueError("an event trigger needs an event (or a pattern)")
        if not self.business_key:
            raise ValueError("an event trigger needs at least one business-key path")


SCHEDULED_TIME = "time"  # an EventBridge "Scheduled Event"'s scheduled time (ISO 8601, UTC)


@dataclass(frozen=True)
class ScheduleTrigger:
    """Started every ``rate_seconds`` by an EventBridge schedule rule through the starter function.

    The rule (``Schedule.rate``, on the default bus as every schedule is) delivers an ``aws.events``
    "Scheduled Event"; the starter names the execution after its scheduled ``time`` truncated to the
    period (``<workflow>-20261129T1530``), so a duplicate delivery of one tick finds the execution the
    first one started. EventBridge rates are whole minutes, hence ``rate_seconds`` is a multiple of 60.
    """

    rate_seconds: int

    def __post_init__(self) -> None:
        if self.rate_seconds < 60 or self.rate_seconds % 60:
            raise ValueError(
                f"a schedule's rate is whole minutes (a multiple of 60 s), not {self.rate_seconds}"
            )

    @property
    def business_key(self) -> tuple[str, ...]:
        return (SCHEDULED_TIME,)

    def period_key(self, scheduled_time: str) -> str:
        """The tick's business key: its scheduled time truncated to the period, ``20261129T1530``."""
        return period_key(scheduled_time, self.rate_seconds)


def period_key(scheduled_time: str, rate_seconds: int) -> str:
    """``2026-11-29T15:37:12Z`` every 900 s -> ``20261129T1530`` (UTC, minutes: rates are whole minutes)."""
    moment = datetime.fromisoformat(scheduled_time.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"a scheduled time carries its zone (EventBridge's is UTC): {scheduled_time!r}")
    seconds = int(moment.timestamp())
    start = datetime.fromtimestamp(seconds - seconds % rate_seconds, tz=UTC)
    return start.strftime("%Y%m%dT%H%M")


Trigger = ApiTrigger | EventTrigger | ScheduleTrigger
StartedByRule = EventTrigger | ScheduleTrigger  # the triggers whose rule invokes a starter

# A business record as JSON (the API's field names), found from the business key.
RecordLookup = Callable[[str], dict[str, Any] | None]
# (record, business key) -> why the record needs no re-run (None: a failed run may be re-run).
RecordSettled = Callable[[dict[str, Any], str], str | None]


def value_at(record: Any, path: str) -> Any:
    """The value at a dotted path (``"certificate.status"``), or None where the path stops."""
    for part in path.split("."):
        record = record.get(part) if isinstance(record, dict) else None
    return record


def settled_when(path: str, *values: str) -> RecordSettled:
    """The record needs no re-run once the field at ``path`` holds one of ``values``."""

    def settled(record: dict[str, Any], _key: str) -> str | None:
        value = value_at(record, path)
        return f"its {path} is {value}" if value in values else None

    return settled


@dataclass(frozen=True)
class BusinessRecord:
    """What a workflow's executions drive, for ops: the API, the CLI and the console show it.

    ``lookup`` takes the business key (the execution name less the workflow's execution prefix) and
    answers the record as JSON (None if there is none yet); ``links`` are the dotted paths in it that
    hold execution names or ARNs (the record -> execution links; the execution name is the way back);
    ``settled`` says when the record no longer needs a re-run of a failed execution: each answers the
    reason, or None.
    """

    kind: str
    lookup: RecordLookup
    links: tuple[str, ...] = ("executionName", "executionArn")
    settled: tuple[RecordSettled, ...] = ()

    def settled_reason(self, record: dict[str, Any], key: str) -> str | None:
        """Why ``record`` needs no re-run, or None if a failed run of it may be re-run."""
        return next((reason for check in self.settled if (reason := check(record, key))), None)


STARTER_HANDLER = "tasks.starter.start_from_event"
DEFAULT_TIMEOUT_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Workflow:
    name: str
    functions: tuple[TaskFunction, ...] = ()
    trigger: Trigger = field(default_factory=ApiTrigger)
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS  # the whole execution; TIMED_OUT alarms after it
    # Error names of Fail states an operator must be paged for, one alarm each.
    error_alarms: tuple[str, ...] = ()
    asl_file: str = ""  # default: <name>.asl.json
    asl_dir: Path = STATE_MACHINES_DIR
    execution_prefix: str = ""  # default: the name
    # People's work the workflow waits for (workflows.human_tasks): listed, decided, reminded.
    human_tasks: tuple[HumanTask, ...] = ()
    record: BusinessRecord | None = None  # what its executions drive (ops show it with them)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
            raise ValueError(f"workflow name {self.name!r}: lower-case letters, digits and '-'")
        set_ = functools.partial(object.__setattr__, self)
        set_("asl_file", self.asl_file or f"{self.name}.asl.json")
        set_("execution_prefix", self.execution_prefix or self.name)
        module = self.name.replace("-", "_")
        set_(
            "functions",
            tuple(
                dataclasses.replace(
                    fn, workflow=self.name, handler=fn.handler or f"tasks.{module}.{_snake(fn.state)}"
                )
                for fn in self.functions
            ),
        )

    @property
    def path(self) -> Path:
        return self.asl_dir / self.asl_file

    @property
    def state_machine_name(self) -> str:
        return f"lms-{self.name}"

    @property
    def starter(self) -> TaskFunction | None:
        """The function an event or schedule rule invokes; it may only start this workflow."""
        if not isinstance(self.trigger, EventTrigger | ScheduleTrigger):
            return None
        return TaskFunction(
            "Starter",
            Needs(start_workflows=(self.name,)),
            handler=STARTER_HANDLER,
            timeout_seconds=10,
            workflow=self.name,
        )

    @property
    def all_functions(self) -> tuple[TaskFunction, ...]:
        return (*self.functions, *([self.starter] if self.starter else []))

    def execution_name(self, business_key: str) -> str:
        """Execution names are business keys: idempotent starts, findable by ops.

        Characters Step Functions refuses in a name (an S3 key's ``/``, spaces) become ``-``.
        """
        return re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.execution_prefix}-{business_key}")[:80]

    @property
    def version(self) -> str:
        return _digest(self.path)


def arn_variable(workflow_name: str) -> str:
    """The environment variable holding a workflow's state machine ARN (set by CDK and the local cloud)."""
    return f"LMS_{workflow_name.upper().replace('-', '_')}_STATE_MACHINE_ARN"


def _kebab(pascal: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", pascal).lower()


def _snake(pascal: str) -> str:
    return _kebab(pascal).replace("-", "_")


@functools.cache
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
