"""Lesson-level grades: the gradebook's items, and completion by grading (docs/assessments-grading.md).

One item per student and assessment lesson (``keys.grade``): the grade that counts for the lesson
(a quiz's grade by its grading method, an assignment's graded submission). Recording it is
idempotent per ``source_id`` (a retried step writes the same item) and a later grade replaces it.

A passing grade completes the lesson through :func:`lms.learning.complete_lesson_by_grading` (the
progress rules: a set union on the enrollment, the high-water percentage), and when that completes
the course the certificate run starts exactly as a progress post starts it. A student no longer
enrolled (refunded) keeps the grade; nothing else changes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from lms import keys, learning
from lms.clock import utcnow
from lms.entities import Entity, UtcDatetime
from lms.settings import get_settings
from lms.table import Table

VERIFY_PATH = "/certificates/verify/"


class GradeKind(StrEnum):
    QUIZ = "quiz"
    ASSIGNMENT = "assignment"


class Grade(Entity):
    course_id: str
    lesson_id: str
    user_id: str
    kind: GradeKind
    source_id: str = Field(description="the attempt or submission the grade comes from")
    percentage: float
    points: float
    max_points: float
    passed: bool
    attempts_used: int
    graded_at: UtcDatetime


def record_grade(
    table: Table,
    *,
    course_id: str,
    lesson_id: str,
    user_id: str,
    kind: str,
    source_id: str,
    percentage: float,
    points: float,
    max_points: float,
    passed: bool,
    attempts_used: int,
    start_certificate: learning.CertificateStarter,
    verify_url_base: str | None = None,
    graded_at: datetime | None = None,
) -> str | None:
    """Store the student's grade of the lesson; a pass completes it (and maybe the course).

    Returns the certificate run's name when the course is complete (None otherwise).
    ``start_certificate`` starts that run (``workflows.certificate.start_issuance_run``: the domain
    never imports the orchestrator; the caller's function needs ``start_workflows=("certificate",)``).
    ``verify_url_base`` is where the certificate's QR code points (default: the configured public URL).
    """
    grade = Grade(
        course_id=course_id,
        lesson_id=lesson_id,
        user_id=user_id,
        kind=GradeKind(kind),
        source_id=source_id,
        percentage=round(float(percentage), 2),
        points=float(points),
        max_points=float(max_points),
        passed=passed,
        attempts_used=attempts_used,
        graded_at=graded_at or utcnow(),
    )
    table.put({**keys.grade(course_id, lesson_id, user_id).as_item(), **grade.attributes()})
    if not passed:
        return None
    update = learning.complete_lesson_by_grading(
        table, user_id=user_id, course_id=course_id, lesson_id=lesson_id
    )
    if update is None:
        return None  # no longer enrolled: the grade stays for the record
    base = verify_url_base or _configured_verify_url_base()
    return learning.start_certificate_if_completed(
        update, user_id=user_id, course_id=course_id, verify_url_base=base, start=start_certificate
    )


def get_grade(table: Table, course_id: str, lesson_id: str, user_id: str) -> Grade | None:
    item = table.get(keys.grade(course_id, lesson_id, user_id), consistent=True)
    return Grade.from_item(item) if item else None


def course_grades(table: Table, course_id: str) -> list[Grade]:
    """Every recorded grade of the course (one Query of its gradebook partition)."""
    items = table.query_all(
        partition=(keys.PK, keys.gradebook_partition(course_id)),
        sort_prefix=(keys.SK, keys.GRADE_PREFIX),
    )
    return [Grade.from_item(item) for item in items]


def _configured_verify_url_base() -> str:
    configured = get_settings().public_url
    return (configured.rstrip("/") if configured else "") + VERIFY_PATH
