"""Look-ups of the business records the workflows drive, from an execution's business key.

Each workflow module declares its record (``Workflow(record=BusinessRecord(...))``) with one of these;
:mod:`workflows.operations` answers it with the execution (``GET /ops/executions/{name}``, ``lms
executions show``, the console). Each answers the record as JSON in the API's field names, or None.
The domain modules are imported when a look-up runs: the task packages import the catalog, not them.
"""

from __future__ import annotations

from typing import Any

from lms import keys
from lms.table import Item, Table


def transaction(key: str) -> dict[str, Any] | None:
    """``<transactionId>``: the purchase's transaction (without its task token)."""
    from lms import purchases

    found = purchases.get_transaction(Table(), key)
    return found.model_dump(mode="json", by_alias=True, exclude={"task_token"}) if found else None


def publication(key: str) -> dict[str, Any] | None:
    """``<courseId>-v<n>``: the course's publication record (it follows the course's latest run)."""
    from lms.publishing import publications

    course_id, _, version = key.rpartition("-v")
    if not course_id or not version.isdigit():
        return None
    found = publications.get_publication(Table(), course_id)
    return found.model_dump(mode="json", by_alias=True) if found else None


def newer_publication(record: dict[str, Any], key: str) -> str | None:
    """A run of an older version than the course's latest needs no re-run: the latest supersedes it."""
    _, _, version = key.rpartition("-v")
    latest = record.get("version")
    if version.isdigit() and isinstance(latest, int) and latest > int(version):
        return f"version {latest} of the course has been requested since"
    return None


def lesson_video(key: str) -> dict[str, Any] | None:
    """``<lessonId>-<uploadId>``: the lesson's video record (it follows the lesson's latest upload)."""
    from lms.video import records

    lesson_id, _, upload_id = key.rpartition("-")
    if not lesson_id or not upload_id:
        return None
    found = records.find_record(Table(), lesson_id)
    return found.model_dump(mode="json", by_alias=True) if found else None


def _certificate_of(table: Table, user_id: str, course_id: str) -> Item | None:
    # Stored items, not entities: they hold what the entities leave out (the runs that touched them).
    listing = table.get(keys.user_certificate(user_id, course_id), consistent=True)
    return table.get(keys.certificate(str(listing["certificateId"])), consistent=True) if listing else None


def issuance(key: str) -> dict[str, Any] | None:
    """``<userId>-<courseId>``: the enrollment (which notes every issuance run) and its certificate."""
    user_id, _, course_id = key.partition("-")
    table = Table()
    enrollment = table.get(keys.enrollment(user_id, course_id), consistent=True) if course_id else None
    if enrollment is None:
        return None
    return {"enrollment": enrollment, "certificate": _certificate_of(table, user_id, course_id)}


def revocation(key: str) -> dict[str, Any] | None:
    """``<transactionId>``: the refunded transaction and the certificate the run revoked (if any)."""
    found = transaction(key)
    if found is None:
        return None
    certificate = _certificate_of(Table(), found["userId"], found["courseId"])
    return {"transaction": found, "certificate": certificate}
