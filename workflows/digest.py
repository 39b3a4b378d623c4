"""The daily digest workflow: once a day, mail yesterday's posts to each forum's digest subscribers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from workflows.definition import Access, Needs, ScheduleTrigger, TaskFunction, Workflow

DAY_SECONDS = 24 * 3600

DIGEST = Workflow(
    name="digest",  # execution digest-<yyyymmddT0000>: one run per day
    trigger=ScheduleTrigger(rate_seconds=DAY_SECONDS),
    functions=(
        TaskFunction("PlanDigest", Needs(), timeout_seconds=10),
        TaskFunction("MailShard", Needs(table=Access.READ_WRITE, mail=True), timeout_seconds=300),
    ),
    timeout_seconds=6 * 3600,
    error_alarms=("DigestFailed",),
)


class PlanInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    time: str  # the schedule's tick (ISO 8601, UTC)


class ShardInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    day: str
    shard: int
    cursor: str | None = None
