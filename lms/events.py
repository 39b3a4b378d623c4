"""The product's events, each defined once: name (detail-type), source, schema version, detail model.

A producer publishes an instance (:func:`publish`, or a Step Functions ``events:putEvents`` state
whose ``Detail.$`` is the :meth:`Event.detail` a task returned); a workflow's trigger takes its rule
pattern from the same class (``EventTrigger(event=EnrollmentRevoked, ...)``); a consumer parses the
detail back with :meth:`Event.from_detail`.

Every detail carries the **envelope** analytics reads, beside the event's own fields::

    {"eventId": "9f…", "occurredAt": "2026-03-01T12:00:00.000Z", "schemaVersion": 1,
     "actor": {"type": "user", "id": "<admin id>"},
     "verb": "revoked", "object": {"type": "enrollment", "id": "<transaction id>"}, "result": "refunded",
     "courseId": "…", "transactionId": "…", "userId": "…", "reason": "…"}

``verb``/``object``/``result`` read as a sentence ("the admin revoked enrollment X: refunded"), the
shape of xAPI statements. EventBridge delivers at least once, so consumers are idempotent: an
event-triggered workflow names its execution from a business key (``certificate-revocation`` from
``detail.transactionId``), or, by default, from ``detail.eventId``, so a redelivery finds the
execution the first delivery started.

A change that breaks a consumer is a new ``schema_version`` (rules match on ``schemaVersion``); adding an
optional field is not.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer, field_validator
from pydantic.alias_generators import to_camel

from lms import aws
from lms.clock import isoformat, new_id, utcnow
from lms.entities import Role
from lms.settings import get_settings

_EVENT_IDS = uuid.UUID("5b1e0c3a-8f2d-4c49-9a51-6c0d1e7f2a10")  # the namespace of id_for's ids
_CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


def _to_the_millisecond(moment: datetime) -> datetime:
    """The detail carries milliseconds; an event read back equals the one sent."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class EventNotPublishedError(Exception):
    """EventBridge refused the entry (it answers 200 with FailedEntryCount, so this must be checked)."""


class EventVersionError(ValueError):
    """A detail of another schema version than the definition the consumer was built for."""


class ActorType(StrEnum):
    USER = "user"  # a person, by user id
    SYSTEM = "system"  # the product itself (a workflow, by name)


class Actor(BaseModel):
    model_config = _CAMEL

    type: ActorType
    id: str

    @classmethod
    def user(cls, user_id: str) -> Actor:
        return cls(type=ActorType.USER, id=user_id)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(type=ActorType.SYSTEM, id=name)


class EventObject(BaseModel):
    model_config = _CAMEL

    type: str
    id: str


class Event(BaseModel):
    """The envelope every event carries; subclasses add the definition and their own fields.

    A subclass sets ``name`` (the detail-type; the class name by default), ``source``, ``schema_version``,
    ``verb``, ``object_type`` and ``result`` (or a ``result`` property when it depends on the event),
    and says which of its fields is the object's id (``object_id``).
    """

    model_config = ConfigDict(**_CAMEL, extra="ignore")  # a consumer tolerates fields added later

    name: ClassVar[str] = ""
    source: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    verb: ClassVar[str] = ""
    object_type: ClassVar[str] = ""
    outcome: ClassVar[str] = ""
    object_id_field: ClassVar[str] = ""

    event_id: str = Field(default_factory=new_id)
    occurred_at: AwareDatetime = Field(default_factory=lambda: _to_the_millisecond(utcnow()))
    actor: Actor
    course_id: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ != "Event" and not cls.name:
            cls.name = cls.__name__

    @field_validator("occurred_at")
    @classmethod
    def _milliseconds(cls, moment: datetime) -> datetime:
        """A producer passing the business fact's time (a retry re-reads it from the record, stored
        to the millisecond) announces exactly what the first attempt did."""
        return _to_the_millisecond(moment)

    @field_serializer("occurred_at")
    def _utc(self, moment: datetime) -> str:
        return isoformat(moment)

    @property
    def object(self) -> EventObject:
        return EventObject(type=self.object_type, id=str(getattr(self, self.object_id_field)))

    @property
    def result(self) -> str:
        return self.outcome

    def detail(self) -> dict[str, Any]:
        """The JSON detail: the envelope (id, time, version, actor, verb/object/result, course) and fields."""
        fields = self.model_dump(mode="json", exclude_none=True)
        return {
            "eventId": fields.pop("eventId"),
            "occurredAt": fields.pop("occurredAt"),
            "schemaVersion": self.schema_version,
            "actor": fields.pop("actor"),
            "verb": self.verb,
            "object": self.object.model_dump(mode="json"),
            "result": self.result,
            **fields,
        }

    @classmethod
    def id_for(cls, *business_key: str) -> str:
        """A stable id for the event announcing one business fact (this event of that key): a task
        retried, or a run re-driven, publishes the same id again, and consumers drop the repeat."""
        return uuid.uuid5(_EVENT_IDS, "/".join((cls.name, *business_key))).hex

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> Self:
        """Parse a delivered detail; a detail of another schema version is refused."""
        if detail.get("schemaVersion") != cls.schema_version:
            raise EventVersionError(
                f"{cls.name} v{cls.schema_version} cannot read schema version {detail.get('schemaVersion')!r}"
            )
        return cls.model_validate(detail)

    @classmethod
    def pattern(cls, **detail: list[Any]) -> dict[str, Any]:
        """The EventBridge pattern matching this event (this schema version), narrowed by ``detail``."""
        return {
            "source": [cls.source],
            "detail-type": [cls.name],
            "detail": {"schemaVersion": [cls.schema_version], **detail},
        }

    def entry(self, bus_name: str) -> dict[str, Any]:
        """The PutEvents entry that publishes this event on ``bus_name``."""
        return {
            "EventBusName": bus_name,
            "Source": self.source,
            "DetailType": self.name,
            "Detail": json.dumps(self.detail()),
        }


def publish(event: Event) -> None:
    """Put ``event`` on the product's bus; :class:`EventNotPublishedError` when EventBridge refuses it."""
    response = aws.client("events").put_events(Entries=[event.entry(get_settings().event_bus_name)])
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        raise EventNotPublishedError(f"{event.name}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")


def publish_for_analytics(event: Event) -> bool:
    """Publish an event nobody's state depends on (analytics only): a failure is logged, not raised,
    so the request that produced it still succeeds. False when it was not published."""
    try:
        publish(event)
    except Exception:  # noqa: BLE001 - any failure to reach the bus; the business write stands
        logging.getLogger(__name__).warning("event %s %s not published", event.name, event.event_id)
        return False
    return True


# --- the product's events ------------------------------------------------------------------------
# Sources: one per domain that produces events.
IDENTITY = "lms.identity"
PURCHASES = "lms.purchases"
LEARNING = "lms.learning"
CERTIFICATES = "lms.certificates"
PUBLISHING = "lms.publishing"
VIDEO = "lms.video"
HUMAN_TASKS = "lms.human-tasks"


class UserRegistered(Event):
    """A person created an account (``POST /auth/register``). Actor: the new user."""

    source = IDENTITY
    verb = "registered"
    object_type = "user"
    object_id_field = "user_id"
    outcome = "registered"

    user_id: str
    role: Role


class EnrollmentCreated(Event):
    """A purchase (paid or free) enrolled the student. Actor: the student."""

    source = PURCHASES
    verb = "enrolled"
    object_type = "course"
    object_id_field = "course_id"
    outcome = "enrolled"

    transaction_id: str
    user_id: str
    course_id: str
    amount: int  # cents
    enrolled_at: AwareDatetime

    @field_serializer("enrolled_at")
    def _enrolled_utc(self, moment: datetime) -> str:
        return isoformat(moment)


class EnrollmentRevoked(Event):
    """A refund revoked the enrollment; consumed by certificate revocation. Actor: the refunding admin."""

    source = PURCHASES
    verb = "revoked"
    object_type = "enrollment"
    object_id_field = "transaction_id"
    outcome = "refunded"

    transaction_id: str
    user_id: str
    course_id: str
    reason: str


class PurchaseCompleted(Event):
    """The payment was captured (or the course was free). Actor: the student."""

    source = PURCHASES
    verb = "purchased"
    object_type = "transaction"
    object_id_field = "transaction_id"
    outcome = "completed"

    transaction_id: str
    user_id: str
    course_id: str
    amount: int  # cents
    currency: str = "usd"


class PurchaseDeclined(Event):
    """The payment was declined or abandoned; nothing was charged. Actor: the student."""

    source = PURCHASES
    verb = "purchased"
    object_type = "transaction"
    object_id_field = "transaction_id"
    outcome = "declined"

    transaction_id: str
    user_id: str
    course_id: str
    reason: str


class LessonProgressRecorded(Event):
    """A student posted progress on a lesson. Actor: the student."""

    source = LEARNING
    verb = "progressed"
    object_type = "lesson"
    object_id_field = "lesson_id"

    user_id: str
    course_id: str
    lesson_id: str
    is_completed: bool
    time_spent_seconds: int  # what this post added
    progress_percentage: int  # the enrollment's, after this post

    @property
    def result(self) -> str:
        return "completed" if self.is_completed else "in-progress"


class CertificateIssued(Event):
    """The certificate workflow recorded a certificate. Actor: the workflow."""

    source = CERTIFICATES
    verb = "issued"
    object_type = "certificate"
    object_id_field = "certificate_id"
    outcome = "issued"

    certificate_id: str
    user_id: str
    course_id: str


class CertificateRevoked(Event):
    """The revocation workflow revoked a certificate (after a refund). Actor: the workflow."""

    source = CERTIFICATES
    verb = "revoked"
    object_type = "certificate"
    object_id_field = "certificate_id"
    outcome = "revoked"

    certificate_id: str
    user_id: str
    course_id: str
    transaction_id: str


class CoursePublished(Event):
    """A version of a course went live. Actor: the instructor who asked for it."""

    source = PUBLISHING
    verb = "published"
    object_type = "course"
    object_id_field = "course_id"
    outcome = "published"

    course_id: str
    version: int  # the course's version (the schema's is schema_version)
    title: str
    category_id: str
    instructor_id: str
    published_at: AwareDatetime

    @field_serializer("published_at")
    def _published_utc(self, moment: datetime) -> str:
        return isoformat(moment)


class VideoReady(Event):
    """A lesson's upload was transcoded and is playable. Actor: the video workflow."""

    source = VIDEO
    verb = "processed"
    object_type = "lesson"
    object_id_field = "lesson_id"
    outcome = "ready"

    lesson_id: str
    course_id: str
    upload_id: str
    duration_seconds: float


class VideoFailed(Event):
    """A lesson's upload could not be processed (corrupt, too long...). Actor: the video workflow."""

    source = VIDEO
    verb = "processed"
    object_type = "lesson"
    object_id_field = "lesson_id"
    outcome = "failed"

    lesson_id: str
    course_id: str
    upload_id: str
    reason: str


class HumanTaskReminder(Event):
    """A human task (an approval, a grading, a moderation) has waited past its reminder time.

    Actor: the product (the reminder sweeper). One reminder per task: the id is stable, so a
    consumer (an email to the deciders, a dashboard) drops a repeated delivery.
    """

    source = HUMAN_TASKS
    verb = "reminded"
    object_type = "human-task"
    object_id_field = "task_id"
    outcome = "waiting"

    kind: str
    task_id: str
    role: str
    owner_id: str | None = None
    requested_at: AwareDatetime
    due_at: AwareDatetime | None = None
    execution_name: str
    details: dict[str, Any] = Field(default_factory=dict)

    @field_serializer("requested_at", "due_at")
    def _task_times_utc(self, moment: datetime | None) -> str | None:
        return isoformat(moment) if moment else None


# --- discussions (issue 17) ----------------------------------------------------------------------
DISCUSSIONS = "lms.discussions"


class PostCreated(Event):
    """A thread's opening post or a reply was written; starts its each-post notification after the
    edit window. Actor: the author."""

    source = DISCUSSIONS
    verb = "posted"
    object_type = "post"
    object_id_field = "post_id"
    outcome = "posted"

    post_id: str
    thread_id: str
    forum_id: str
    course_id: str
    author_id: str
    parent_id: str | None = None
    notify_at: str  # when the edit window closes (ISO 8601, seconds, UTC): the notification's Wait


class PostReported(Event):
    """A participant reported a post to the moderators. Actor: the reporter."""

    source = DISCUSSIONS
    verb = "reported"
    object_type = "post"
    object_id_field = "post_id"
    outcome = "reported"

    post_id: str
    thread_id: str
    course_id: str
    reporter_id: str
    report_count: int


class PostModerated(Event):
    """A moderator decided on a reported post (keep or hide). Actor: the moderator."""

    source = DISCUSSIONS
    verb = "moderated"
    object_type = "post"
    object_id_field = "post_id"

    post_id: str
    thread_id: str
    course_id: str
    decision: str  # keep | hide

    @property
    def result(self) -> str:
        return "kept" if self.decision == "keep" else "hidden"


class SubscriptionChanged(Event):
    """A participant chose how a forum's posts reach them by email. Actor: that participant."""

    source = DISCUSSIONS
    verb = "subscribed"
    object_type = "forum"
    object_id_field = "forum_id"

    forum_id: str
    course_id: str
    user_id: str
    mode: str  # each_post | daily_digest | off

    @property
    def result(self) -> str:
        return self.mode


# --- assessments (issue 16, quiz half) -------------------------------------------------------------
ASSESSMENTS = "lms.assessments"


class AttemptGraded(Event):
    """A quiz attempt was graded (automatically, or once a person graded its essays). Actor: the
    attempt workflow. Published by the attempt workflow's NotifyGraded state, once per attempt."""

    source = ASSESSMENTS
    verb = "graded"
    object_type = "attempt"
    object_id_field = "attempt_id"

    attempt_id: str
    lesson_id: str
    user_id: str
    score: float
    max_score: float
    percentage: float
    passed: bool
    auto_submitted: bool = False

    @property
    def result(self) -> str:
        return "passed" if self.passed else "failed"


EVENTS: tuple[type[Event], ...] = (
    UserRegistered,
    EnrollmentCreated,
    EnrollmentRevoked,
    PurchaseCompleted,
    PurchaseDeclined,
    LessonProgressRecorded,
    CertificateIssued,
    CertificateRevoked,
    CoursePublished,
    VideoReady,
    VideoFailed,
    HumanTaskReminder,
    PostCreated,
    PostReported,
    PostModerated,
    SubscriptionChanged,
    AttemptGraded,
)
