"""The launch checklist: pure rules over a course and its lessons, each failure a code plus a message.

The workflow checks the course once (:func:`check_course`) and every lesson in parallel
(:func:`check_lesson`, one Map iteration each); nothing here reads or writes the table.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from pydantic import BaseModel

from lms.courses.pricing import check_price
from lms.entities import CAMEL_CASE, Course, Lesson, LessonType, VideoStatus
from lms.errors import BusinessRuleError

# Elements whose content runs or embeds code in a student's browser.
UNSAFE_ELEMENTS = frozenset({"script", "iframe", "object", "embed"})
UNSAFE_URL_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
# A message names at most this many findings ("... and 4,987 more"): a lesson full of on* handlers
# must not make a message (and the run's record) as large as the lesson.
NAMED_FINDINGS = 10


class ChecklistFailure(BaseModel):
    """One reason a course cannot be published; ``lesson_id`` is set for a lesson's failure."""

    model_config = {**CAMEL_CASE, "populate_by_name": True}

    code: str
    message: str
    lesson_id: str | None = None
    lesson_title: str | None = None


def check_course(course: Course, lessons: list[Lesson], *, category_exists: bool) -> list[ChecklistFailure]:
    failures = []
    if not course.title.strip():
        failures.append(ChecklistFailure(code="TITLE_MISSING", message="The course needs a title."))
    if not course.description.strip():
        failures.append(
            ChecklistFailure(code="DESCRIPTION_MISSING", message="The course needs a description.")
        )
    if not category_exists:
        failures.append(
            ChecklistFailure(code="CATEGORY_MISSING", message="The course's category does not exist.")
        )
    try:
        check_price(course.price_cents, course.currency)
    except BusinessRuleError as error:
        failures.append(ChecklistFailure(code="PRICE_INVALID", message=error.message))
    if not lessons:
        failures.append(ChecklistFailure(code="NO_LESSONS", message="The course needs at least one lesson."))
        return failures
    order = sorted(lesson.order_index for lesson in lessons)
    if order != list(range(order[0], order[0] + len(order))):
        failures.append(
            ChecklistFailure(
                code="ORDER_NOT_CONTIGUOUS",
                message="Lesson order indexes must run without gaps or repeats; they are "
                f"{_some([str(index) for index in order])}.",
            )
        )
    return failures


def check_lesson(lesson: Lesson, quiz: dict[str, Any] | None = None) -> list[ChecklistFailure]:
    """A lesson's problems; ``quiz`` is a quiz lesson's copy in the version (None: not set up)."""
    problems: list[tuple[str, str]] = []
    if not lesson.title.strip():
        problems.append(("LESSON_TITLE_MISSING", "The lesson needs a title."))
    if lesson.type == LessonType.VIDEO and lesson.video_status != VideoStatus.READY:
        state = lesson.video_status.value if lesson.video_status else "not uploaded"
        problems.append(("VIDEO_NOT_READY", f"The lesson's video is not processed yet ({state})."))
    if lesson.type == LessonType.TEXT:
        problems.extend(_check_text(lesson.content or ""))
    if lesson.type == LessonType.QUIZ:
        from lms.assessments.quizzes import quiz_problems  # the assessments package builds on this one

        problems.extend(quiz_problems(quiz))
    return [
        ChecklistFailure(code=code, message=message, lesson_id=lesson.lesson_id, lesson_title=lesson.title)
        for code, message in problems
    ]


def _check_text(content: str) -> list[tuple[str, str]]:
    scan = _HtmlScan()
    scan.feed(content)
    scan.close()
    problems = []
    if not "".join(scan.text).strip():
        problems.append(("TEXT_EMPTY", "The lesson has no text."))
    if scan.unsafe:
        found = _some(sorted(scan.unsafe))
        problems.append(("UNSAFE_HTML", f"Remove what would run in a student's browser: {found}."))
    return problems


def _some(findings: list[str]) -> str:
    """The first findings, and how many more there are."""
    named = ", ".join(finding[:80] for finding in findings[:NAMED_FINDINGS])
    more = len(findings) - NAMED_FINDINGS
    return f"{named} and {more:,} more" if more > 0 else named


class _HtmlScan(HTMLParser):
    """Collects visible text and what would run code: script-like elements, on* handlers, js: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.unsafe: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNSAFE_ELEMENTS:
            self.unsafe.add(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.unsafe.add(f"{name} attribute")
            elif value and value.strip().lower().replace(" ", "").startswith(UNSAFE_URL_SCHEMES):
                self.unsafe.add(f"{value.split(':', 1)[0].strip().lower()}: URL")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
