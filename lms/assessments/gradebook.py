"""The gradebook (docs/assessments-grading.md): every enrolled student x assessment lesson, and its CSV.

Three reads, none a Scan: the course's roster (an index query on the enrollments), its published
assessment lessons (quiz and assignment), and its recorded grades (one Query of its gradebook
partition). A student with no grade for a lesson has an empty cell (``status`` NOT_GRADED); a
refunded student stays listed (``enrollmentStatus`` REVOKED) with the grades recorded before.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from lms import keys, learning
from lms.assessments import grades
from lms.entities import Lesson
from lms.table import Table


@dataclass(frozen=True)
class GradebookRow:
    user_id: str
    enrollment_status: str
    lesson_id: str
    lesson_title: str
    kind: str
    status: str  # GRADED or NOT_GRADED
    percentage: float | None
    points: float | None
    max_points: float | None
    passed: bool | None
    attempts_used: int


CSV_COLUMNS = (
    "userId",
    "enrollmentStatus",
    "lessonId",
    "lessonTitle",
    "kind",
    "status",
    "percentage",
    "points",
    "maxPoints",
    "passed",
    "attemptsUsed",
)


def assessment_lessons(table: Table, course_id: str) -> list[Lesson]:
    """The published quiz and assignment lessons, in course order."""
    return [
        lesson
        for lesson in learning.course_lessons(table, course_id)
        if lesson.type in learning.GRADED_LESSON_TYPES
    ]


def roster(table: Table, course_id: str) -> list[tuple[str, str]]:
    """(userId, enrollment status) of every student enrolled in the course, by user id."""
    items = table.query_all(partition=(keys.GSI1PK, keys.course_roster(course_id)), index=keys.GSI1)
    return sorted((str(item["userId"]), str(item.get("status", ""))) for item in items)


def gradebook(table: Table, course_id: str) -> list[GradebookRow]:
    lessons = assessment_lessons(table, course_id)
    recorded = {(g.user_id, g.lesson_id): g for g in grades.course_grades(table, course_id)}
    students = dict(roster(table, course_id))
    for user_id, _ in recorded:
        students.setdefault(user_id, "")  # graded, though not in the roster (enrolled before it existed)
    rows = []
    for user_id in sorted(students):
        for lesson in lessons:
            grade = recorded.get((user_id, lesson.lesson_id))
            rows.append(
                GradebookRow(
                    user_id=user_id,
                    enrollment_status=students[user_id],
                    lesson_id=lesson.lesson_id,
                    lesson_title=lesson.title,
                    kind=lesson.type.value,
                    status="GRADED" if grade else "NOT_GRADED",
                    percentage=grade.percentage if grade else None,
                    points=grade.points if grade else None,
                    max_points=grade.max_points if grade else None,
                    passed=grade.passed if grade else None,
                    attempts_used=grade.attempts_used if grade else 0,
                )
            )
    return rows


def as_csv(rows: list[GradebookRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.user_id,
                row.enrollment_status,
                row.lesson_id,
                _safe(row.lesson_title),
                row.kind,
                row.status,
                "" if row.percentage is None else f"{row.percentage:g}",
                "" if row.points is None else f"{row.points:g}",
                "" if row.max_points is None else f"{row.max_points:g}",
                "" if row.passed is None else str(row.passed).lower(),
                row.attempts_used,
            ]
        )
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
