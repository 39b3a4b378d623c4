"""Learning (docs/api.md, "Learning"): enrollments, progress, certificates and their public verification."""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from api import security
from api.models import LessonSeconds, Page, RequestBody, View
from api.params import Cursor, Limit, PathId
from api.responses import page_limit
from lms import certificates, keys, learning
from lms.blobs import DEFAULT_EXPIRY_SECONDS, S3BlobStore
from lms.courses import lessons
from lms.entities import CertificateStatus, Enrollment, Role
from lms.errors import NotFoundError
from lms.settings import get_settings
from lms.table import Table

router = APIGatewayRouter()


class ProgressRequest(RequestBody):
    is_completed: bool = Field(default=False, description="marks the lesson completed (it stays completed)")
    time_spent: LessonSeconds = Field(default=0, description="seconds spent since the last post; they add up")


class EnrollmentView(View):
    course_id: str
    status: str = Field(description="ACTIVE, or REVOKED after a refund")
    enrolled_at: datetime
    last_accessed: datetime | None = None
    progress_percentage: int = Field(description="the highest percentage earned (never falls)")
    is_completed: bool
    completed_at: datetime | None = None


class EnrollmentPage(Page[EnrollmentView]):
    pass


class ProgressRecorded(View):
    course_id: str
    lesson_id: str
    lesson_completed: bool
    time_spent: int = Field(description="seconds on this lesson so far")
    progress_percentage: int
    is_completed: bool = Field(description="the course is completed")
    completed_at: datetime | None = None
    certificate_execution_name: str | None = Field(
        default=None, description="the course's certificate issuance run, once the course is completed"
    )


class LessonProgressView(View):
    lesson_id: str
    title: str
    order_index: int
    is_completed: bool
    time_spent: int


class CourseProgress(View):
    course_id: str
    progress_percentage: int
    is_completed: bool
    completed_at: datetime | None = None
    enrolled_at: datetime
    last_accessed: datetime | None = None
    lessons: list[LessonProgressView]


class CertificateSummary(View):
    certificate_id: str
    course_id: str
    course_title: str
    issued_at: datetime
    status: str = Field(description="VALID or REVOKED")


class CertificatePage(Page[CertificateSummary]):
    pass


class CertificateView(View):
    certificate_id: str
    user_id: str
    course_id: str
    holder_name: str
    course_title: str
    instructor_name: str
    issued_at: datetime
    status: str
    verification_code: str
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    execution_name: str
    download_url: str = Field(description="short-lived presigned GET of the PDF")
    expires_in: int = Field(description="seconds the download URL stays valid")


class CertificateVerification(View):
    """The public answer: nothing more personal than the name printed on the certificate."""

    certificate_id: str
    holder_name: str
    course_title: str
    issued_at: datetime
    status: str = Field(description="VALID or REVOKED")
    valid: bool
    credential_url: str = Field(
        description="the certificate's signed Open Badges credential (its holder and admins download it; "
        "anyone verifies it offline, see docs/credentials.md)"
    )


# A certificate's download link is short-lived: long enough to start a download, no longer.
DOWNLOAD_URL_SECONDS = min(5 * 60, DEFAULT_EXPIRY_SECONDS)
VERIFY_PATH = "/certificates/verify/"


@router.get("/enrollments", tags=["learning"], summary="The caller's enrollments with their progress")
@security.signed_in
def list_enrollments(limit: Limit = 50, cursor: Cursor = None) -> EnrollmentPage:
    table = Table()
    principal = security.authenticated(router, table).principal
    items, next_cursor = learning.list_enrollments(
        table, principal.user_id, limit=page_limit(limit), cursor=cursor
    )
    return EnrollmentPage(
        items=[EnrollmentView.model_validate(e.model_dump()) for e in items], next_cursor=next_cursor
    )


@router.post(
    "/lessons/<lessonId>/progress",
    tags=["learning"],
    summary="Record progress on a lesson (enrolled students); reaching 100 % starts certificate issuance",
)
@security.signed_in
def record_progress(lessonId: PathId, body: ProgressRequest) -> ProgressRecorded:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    lesson = lessons.find_lesson(table, lessonId)
    update = learning.record_progress(
        table,
        user_id=principal.user_id,
        lesson=lesson,
        is_completed=body.is_completed,
        time_spent=body.time_spent,
    )
    enrollment = update.enrollment
    from workflows import certificate as workflow  # starts executions: only this route needs it

    execution_name = learning.start_certificate_if_completed(
        update,
        user_id=principal.user_id,
        course_id=lesson.course_id,
        verify_url_base=verify_url_base(),
        start=workflow.start_issuance_run,
    )
    return ProgressRecorded(
        course_id=lesson.course_id,
        lesson_id=lesson.lesson_id,
        lesson_completed=update.lesson.is_completed,
        time_spent=update.lesson.time_spent_seconds,
        progress_percentage=enrollment.progress_percentage,
        is_completed=enrollment.is_completed,
        completed_at=enrollment.completed_at,
        certificate_execution_name=execution_name,
    )


@router.get(
    "/courses/<courseId>/progress", tags=["learning"], summary="The caller's progress, lesson by lesson"
)
@security.signed_in
def course_progress(courseId: PathId) -> CourseProgress:  # noqa: N803
    table = Table()
    caller = security.authenticated(router, table, lambda user_id: [keys.enrollment(user_id, courseId)])
    user_id = caller.principal.user_id
    item = caller.extras.get(keys.enrollment(user_id, courseId))
    if item is None or not Enrollment.is_active_item(item):
        raise learning.NotEnrolledError("Only students enrolled in this course see its progress.")
    enrollment = Enrollment.from_item(item)
    lessons = learning.course_lessons(table, courseId)
    done = learning.lesson_progress(table, user_id, courseId)
    return CourseProgress(
        course_id=courseId,
        progress_percentage=enrollment.progress_percentage,
        is_completed=enrollment.is_completed,
        completed_at=enrollment.completed_at,
        enrolled_at=enrollment.enrolled_at,
        last_accessed=enrollment.last_accessed,
        lessons=[
            LessonProgressView(
                lesson_id=lesson.lesson_id,
                title=lesson.title,
                order_index=lesson.order_index,
                is_completed=bool(done.get(lesson.lesson_id) and done[lesson.lesson_id].is_completed),
                time_spent=done[lesson.lesson_id].time_spent_seconds if lesson.lesson_id in done else 0,
            )
            for lesson in lessons
        ],
    )


@router.get("/certificates", tags=["learning"], summary="The caller's certificates")
@security.signed_in
def list_certificates(limit: Limit = 50, cursor: Cursor = None) -> CertificatePage:
    table = Table()
    principal = security.authenticated(router, table).principal
    items, next_cursor = certificates.list_user_certificates(
        table, principal.user_id, limit=page_limit(limit), cursor=cursor
    )
    return CertificatePage(
        items=[CertificateSummary.model_validate(item) for item in items], next_cursor=next_cursor
    )


@router.get(
    "/certificates/<certificateId>",
    tags=["learning"],
    summary="A certificate with its verification code and a short-lived download URL (owner, admin)",
)
@security.signed_in
def get_certificate(certificateId: PathId) -> CertificateView:  # noqa: N803
    table = Table()
    caller = security.authenticated(router, table, [keys.certificate(certificateId)])
    item = caller.extras.get(keys.certificate(certificateId))
    principal = caller.principal
    if item is not None and item.get("userId") != principal.user_id and principal.role != Role.ADMIN:
        item = None  # someone else's certificate: answered like a missing one, so ids cannot be probed
    certificate = certificates.get_certificate(item, certificateId)
    url = S3BlobStore(get_settings().bucket_name).presigned_get(certificate.pdf_key, DOWNLOAD_URL_SECONDS)
    return CertificateView.model_validate(
        {**certificate.model_dump(), "download_url": url, "expires_in": DOWNLOAD_URL_SECONDS}
    )


@router.get(
    "/certificates/verify/<code>",
    tags=["learning"],
    summary="Public verification of a certificate code: holder name, course, issue date, valid or revoked",
)
@security.public
def verify_certificate(code: PathId) -> CertificateVerification:
    table = Table()
    certificates.count_verification(table, security.source_address(router))
    found, answer = certificates.lookup_code(table, code)
    # A miss builds and serialises the same answer as a hit, then throws it away: the same work.
    view = CertificateVerification(
        certificate_id=answer.certificate_id,
        holder_name=answer.holder_name,
        course_title=answer.course_title,
        issued_at=answer.issued_at,
        status=answer.status.value,
        valid=answer.status == CertificateStatus.VALID,
        credential_url=f"{public_url(router)}/certificates/{answer.certificate_id}/credential",
    )
    view.model_dump_json(by_alias=True)
    if not found:
        raise NotFoundError("No certificate has this verification code.")
    return view


def verify_url_base(on: APIGatewayRouter = router) -> str:
    """Where the QR code points: ``<public URL>/certificates/verify/``."""
    return public_url(on) + VERIFY_PATH


def public_url(on: APIGatewayRouter) -> str:
    """The configured public URL, else the URL this API was called on (through ``on``'s request).

    Behind API Gateway the Host header is the API's own domain (a request for another host never
    reaches this function), and the stage is part of the path. The credential issuer's did:web is
    made of it too (api/routes/credentials.py), so the QR code and the issuer always agree.
    """
    configured = get_settings().public_url
    if configured:
        return configured.rstrip("/")
    event = on.current_event
    headers = event.headers
    host = headers.get("Host") or headers.get("host") or "localhost"
    scheme = headers.get("X-Forwarded-Proto") or headers.get("x-forwarded-proto") or "http"
    stage = event.request_context.stage
    prefix = f"/{stage}" if stage and stage not in ("local", "$default") else ""
    return f"{scheme}://{host}{prefix}"
