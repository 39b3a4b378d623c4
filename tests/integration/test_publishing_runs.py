"""Publishing runs on the local cloud's DynamoDB: what a late task invocation may not do."""

from __future__ import annotations

import pytest

from lms.errors import BusinessRuleError
from lms.publishing import approvals, publications, steps
from lms.table import Table
from tests.publishing import draft_with_lessons


def test_an_approval_opened_after_the_run_was_closed_is_taken_off_the_list(demo) -> None:
    """AwaitApproval's Lambda arriving after the wait timed out and the run was closed."""
    table = Table()
    course, _ = draft_with_lessons(demo, 1)
    name = f"publish-{course.course_id}-v1"
    closed = publications.Publication(
        course_id=course.course_id,
        version=1,
        status=publications.PublicationStatus.FAILED,
        reason=approvals.APPROVAL_TIMED_OUT,
        execution_name=name,
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:lms-publish:{name}",
        requested_by=course.instructor_id,
    )
    table.put(publications.publication_item(closed))
    steps.capture_snapshot(table, course.course_id, 1)

    with pytest.raises(BusinessRuleError):
        approvals.await_approval(table, course.course_id, 1, name, "a-late-token")

    after = publications.get_publication(table, course.course_id)
    assert after is not None and after.status == publications.PublicationStatus.FAILED
    pending, _ = approvals.list_pending_approvals(table, limit=100, cursor=None)
    assert approvals.approval_id_for(course.course_id, 1) not in {a.approval_id for a in pending}
