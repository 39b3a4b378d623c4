"""The launch checklist's rules on in-memory courses and lessons (no table)."""

from __future__ import annotations

import pytest

from lms.entities import Course, Lesson, LessonType, VideoStatus
from lms.publishing.checklist import check_course, check_lesson


def course(**fields) -> Course:
    return Course(
        **{
            "title": "T",
            "description": "D",
            "instructor_id": "i",
            "category_id": "c",
            "price_cents": 0,
            **fields,
        }
    )


def lesson(type_: LessonType = LessonType.TEXT, **fields) -> Lesson:
    return Lesson(**{"course_id": "c", "title": "L", "type": type_, "content": "<p>Hi</p>", **fields})


def codes(failures) -> list[str]:
    return [f.code for f in failures]


def test_a_complete_course_passes() -> None:
    lessons = [lesson(order_index=1), lesson(order_index=2)]
    assert check_course(course(), lessons, category_exists=True) == []
    assert all(check_lesson(item) == [] for item in lessons)


def test_course_level_failures_each_have_a_code() -> None:
    assert codes(check_course(course(title=" ", description=""), [], category_exists=False)) == [
        "TITLE_MISSING",
        "DESCRIPTION_MISSING",
        "CATEGORY_MISSING",
        "NO_LESSONS",
    ]
    assert codes(check_course(course(price_cents=10), [lesson()], category_exists=True)) == ["PRICE_INVALID"]


@pytest.mark.parametrize("order", [[0, 2], [0, 0], [1, 3, 4]])
def test_gaps_or_repeats_in_the_order_fail(order: list[int]) -> None:
    lessons = [lesson(order_index=i) for i in order]
    assert codes(check_course(course(), lessons, category_exists=True)) == ["ORDER_NOT_CONTIGUOUS"]


@pytest.mark.parametrize(
    "content",
    [
        "<script>alert(1)</script><p>x</p>",
        '<p onclick="x()">x</p>',
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JavaScript :alert(1)">x</a>',
        "<iframe src='https://example.org'></iframe><p>x</p>",
        '<img src="x" onerror="y()"/><p>x</p>',
    ],
)
def test_text_that_would_run_code_is_refused(content: str) -> None:
    assert "UNSAFE_HTML" in codes(check_lesson(lesson(content=content)))


@pytest.mark.parametrize("content", ["", "   ", "<p> </p>", "<div><br></div>"])
def test_text_without_words_is_empty(content: str) -> None:
    assert codes(check_lesson(lesson(content=content))) == ["TEXT_EMPTY"]


def test_markdown_and_plain_html_are_fine() -> None:
    assert (
        check_lesson(lesson(content="# Title\n\nSome *text* with <b>bold</b> and <a href='/x'>a link</a>."))
        == []
    )


@pytest.mark.parametrize("status", [None, VideoStatus.UPLOADING, VideoStatus.PROCESSING, VideoStatus.FAILED])
def test_a_video_lesson_needs_a_ready_video(status: VideoStatus | None) -> None:
    assert codes(check_lesson(lesson(LessonType.VIDEO, content=None, video_status=status))) == [
        "VIDEO_NOT_READY"
    ]
    assert check_lesson(lesson(LessonType.VIDEO, content=None, video_status=VideoStatus.READY)) == []


def quiz_copy(items: list[dict], questions: list[dict], missing: list[str] | None = None) -> dict:
    """A quiz as a version captured it (lms.assessments.quizzes.PublishedQuiz)."""
    return {
        "lessonId": "l",
        "courseId": "c",
        "version": 1,
        "settings": {"items": items, "passPercentage": 50},
        "questions": [{"courseId": "c", "points": 1, **q} for q in questions],
        "missingQuestionIds": missing or [],
    }


TRUE = {"questionId": "q1", "type": "true_false", "text": "Sky is blue?", "correct": True, "category": "sky"}


def test_a_quiz_without_settings_cannot_be_published() -> None:
    assert codes(check_lesson(lesson(LessonType.QUIZ, content=None))) == ["QUIZ_NOT_SET_UP"]


def test_a_quiz_that_can_be_taken_passes() -> None:
    quiz = quiz_copy([{"questionId": "q1"}], [TRUE])
    assert check_lesson(lesson(LessonType.QUIZ, content=None), quiz=quiz) == []


def test_a_quiz_drawing_more_than_its_category_holds_or_naming_a_deleted_question_is_refused() -> None:
    quiz = quiz_copy([{"category": "sky", "count": 2}, {"questionId": "gone"}], [TRUE], missing=["gone"])
    found = codes(check_lesson(lesson(LessonType.QUIZ, content=None), quiz=quiz))
    assert sorted(found) == ["QUIZ_CATEGORY_TOO_SMALL", "QUIZ_QUESTION_MISSING"]


def test_a_lesson_full_of_handlers_gets_a_short_message_that_counts_the_rest() -> None:
    handlers = " ".join(f"on{i}" for i in range(7000))
    (failure,) = check_lesson(lesson(content=f"<p {handlers}>Hi</p>"))

    assert failure.code == "UNSAFE_HTML"
    assert "and 6,990 more" in failure.message and len(failure.message) < 1000


def test_a_long_gappy_lesson_order_is_named_briefly() -> None:
    lessons = [lesson(order_index=2 * i) for i in range(5000)]
    (failure,) = check_course(course(), lessons, category_exists=True)

    assert failure.code == "ORDER_NOT_CONTIGUOUS" and "and 4,990 more" in failure.message
    assert len(failure.message) < 1000
