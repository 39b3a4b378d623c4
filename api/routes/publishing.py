"""Course publishing (docs/api.md, "Catalog" and "Operations"): publish, publication, unpublish, approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from api import security
from api.models import CourseView, Page, RequestBody, View
from api.params import Cursor, Limit, PathId
from api.responses import accepted, page_limit
from lms.entities import Role
from lms.publishing import approvals, publications
from lms.table import Table
from workflows import callbacks as workflow_callbacks

router = APIGatewayRouter()

Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class PublishStarted(View):
    course_id: str
    version: int
    execution_name: str
    execution_arn: str
    status: publications.PublicationStatus


class ChecklistItem(View):
    code: str = Field(description="machine-readable, e.g. NO_LESSONS, TEXT_EMPTY, VIDEO_NOT_READY")
    message: str
    lesson_id: str | None = None
    lesson_title: str | None = None


class PublicationView(View):
    course_id: str
    version: int = Field(
        description="run n is execution publish-<courseId>-v<n> and, once published, version n"
    )
    status: publications.PublicationStatus
    reason: str | None = None
    checklist_passed: bool | None = None
    checklist: list[ChecklistItem] = Field(description="every problem the launch checklist found")
    checklist_count: int | None = Field(default=None, description="how many problems (null before the check)")
    approval_id: str | None = None
    execution_name: str
    execution_arn: str
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    published_at: datetime | None = None

    @classmethod
    def of(cls, publication: publications.Publication) -> PublicationView:
        return cls.model_validate(
            {
                **publication.model_dump(exclude={"checklist"}),
                "reason": publication.reason or None,
                "checklist": [ChecklistItem.model_validate(f.model_dump()) for f in publication.checklist],
            }
        )


class ApprovalView(View):
    approval_id: str
    course_id: str
    course_title: str
    instructor_id: str
    version: int
    status: approvals.ApprovalStatus
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    execution_name: str
    execution_arn: str

    @classmethod
    def of(cls, approval: approvals.Approval) -> ApprovalView:
        return cls.model_validate(approval.model_dump())


class ApprovalPage(Page[ApprovalView]):
    pass


class ApprovalDecision(RequestBody):
    decision: approvals.Decision
    reason: Reason | None = None


class ReviewPolicy(RequestBody):
    required: bool = Field(description="every publication of this instructor waits for an admin's approval")


class ReviewPolicyView(View):
    user_id: str
    review_required: bool


@router.post(
    "/courses/<courseId>/publish",
    tags=["publishing"],
    summary="Publish a course (owner or admin): starts the publishing workflow",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def publish_course(courseId: PathId) -> Response[PublishStarted]:  # noqa: N803
    from workflows import publish as workflow  # starts executions: only this route needs it

    table = Table()
    principal = security.authenticated(router, table).principal
    publication = workflow.begin_publication(table, principal, courseId)
    return accepted(PublishStarted.model_validate(publication.model_dump()))


@router.get(
    "/courses/<courseId>/publication",
    tags=["publishing"],
    summary="The latest publishing run: status, version, checklist results and reasons (owner or admin)",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def get_publication(courseId: PathId) -> PublicationView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return PublicationView.of(publications.publication_for(table, principal, courseId))


@router.post(
    "/courses/<courseId>/unpublish",
    tags=["publishing"],
    summary="Take a course off the catalog (owner or admin); enrolled students keep access",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def unpublish_course(courseId: PathId) -> CourseView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return CourseView.of(publications.unpublish(table, principal, courseId))


@router.get("/admin/approvals", tags=["publishing"], summary="Pending approvals, oldest first (admin)")
@security.allow(Role.ADMIN)
def list_approvals(limit: Limit = 20, cursor: Cursor = None) -> ApprovalPage:
    pending, next_cursor = approvals.list_pending_approvals(Table(), limit=page_limit(limit), cursor=cursor)
    return ApprovalPage(items=[ApprovalView.of(a) for a in pending], next_cursor=next_cursor)


@router.post(
    "/admin/approvals/<approvalId>",
    tags=["publishing"],
    summary="Approve or reject (with a reason) a waiting publication (admin)",
)
@security.allow(Role.ADMIN)
def decide_approval(approvalId: PathId, body: ApprovalDecision) -> ApprovalView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    approval = approvals.decide(
        table,
        workflow_callbacks.callbacks(),
        principal,
        approvalId,
        decision=body.decision,
        reason=body.reason,
    )
    return ApprovalView.of(approval)


@router.put(
    "/admin/instructors/<userId>/review",
    tags=["publishing"],
    summary="Require (or stop requiring) an admin's approval for every publication of an instructor",
)
@security.allow(Role.ADMIN)
def set_review_policy(userId: PathId, body: ReviewPolicy) -> ReviewPolicyView:  # noqa: N803
    publications.set_review_required(Table(), userId, required=body.required)
    return ReviewPolicyView(user_id=userId, review_required=body.required)
