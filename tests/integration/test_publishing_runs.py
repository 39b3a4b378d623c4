"""Publishing runs on the local cloud's DynamoDB: what a late task invocation may not do."""

from __future__ import annotations

import pytest

from lms.errors import BusinessRuleError
from lms.publishing import runs
from lms.table import Table
from tests.publishing import draft_with_lessons


def test_an_approval_opened_after_the_run_was_closed_is_taken_off_the_list(demo) -> None:
    """AwaitApproval's Lambda arriving after the wait timed out and the run was closed."""
    table = Table()
    course, _ = draft_with_lessons(demo, 1)
    name = f"publish-{course.course_id}-v1"
    closed = runs.Publication(
        course_id=course.course_id,
        version=1,
        status=runs.PublicationStatus.FAILED,
        reason=runs.APPROVAL_TIMED_OUT,
        execution_name=name,
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:lms-publish:{name}",
        requested_by=course.instructor_id,
    )
    table.put(runs.publication_item(closed))
    runs.capture_snapshot(table, course.course_id, 1)

    with pytest.raises(BusinessRuleError):
        runs.await_approval(table, course.course_id, 1, name, "a-late-token")

    assert runs.get_publication(table, course.course_id).status == runs.PublicationStatus.FAILED  # type: ignore[union-attr]
    pending, _ = runs.list_pending_approvals(table, limit=100, cursor=None)
    assert runs.approval_id_for(course.course_id, 1) not in {a.approval_id for a in pending}
