"""Quiz attempts: start (draw and shuffle once), save answers until the deadline, submit, grade once.

The API side (:func:`start_attempt`, :func:`save_answers`, :func:`submit`, :func:`attempt_view`) and
the attempt workflow's side (:func:`hold_submit_token`, :func:`close_at_deadline`, :func:`grade`,
:func:`finish_essays`, :func:`expire_essays`) share the attempt item (``keys.attempt``):

* ``IN_PROGRESS`` -> ``SUBMITTED`` by one conditional write, whoever wins: the student's submit or the
  workflow at the deadline (``autoSubmitted``). Saves are refused (409 ``ATTEMPT_CLOSED``) once the
  status left ``IN_PROGRESS`` or the deadline passed: the server's clock decides, never the client's.
* ``SUBMITTED`` -> ``GRADED`` (or ``AWAITING_GRADING`` while essays wait for a person) by the workflow
  alone, one conditional write again, so two submits grade once.
* ``ENDED``: the student's enrollment was revoked (a refund) during the attempt; the record stays.

A student has at most one attempt in progress per quiz: the student's quiz record
(``keys.student_quiz``) names it, and the start's transaction requires that it names none.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import Field

from lms import callbacks, keys
from lms.assessments import quizzes
from lms.assessments.overrides import Override, override_from
from lms.assessments.questions import KEY_FIELDS, Question
from lms.assessments.quizzes import DrawnItem, FixedItem, PublishedQuiz, ReviewLevel
from lms.assessments.scoring import AttemptScore, GradingMethod, check_answer, grade_by_method, score_attempt
from lms.clock import isoformat, new_id, utcnow
from lms.courses.courses import can_manage, get_course
from lms.entities import EnrollmentStatus, Entity, UtcDatetime
from lms.errors import (
    BusinessRuleError,
    ConflictError,
    ForbiddenError,
    LmsError,
    NotFoundError,
    ValidationError,
)
from lms.expressions import Update, absent, eq, gt, item_absent, one_of
from lms.table import Change, Check, Item, Put, Table, Write

if TYPE_CHECKING:
    from lms.identity import Principal

# An attempt without a time limit or a close time still ends: a week after its start.
UNTIMED_ATTEMPT_SECONDS = 7 * 24 * 3600


class AttemptStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUBMITTED = "SUBMITTED"
    AWAITING_GRADING = "AWAITING_GRADING"
    GRADED = "GRADED"
    ENDED = "ENDED"  # the enrollment was revoked during the attempt: no grade, the record stays


class AttemptClosedError(ConflictError):
    code = "ATTEMPT_CLOSED"


class AttemptInProgressError(ConflictError):
    code = "ATTEMPT_IN_PROGRESS"


class QuizNotOpenError(BusinessRuleError):
    code = "QUIZ_NOT_OPEN"


class QuizClosedError(BusinessRuleError):
    code = "QUIZ_CLOSED"


class NoAttemptsLeftError(BusinessRuleError):
    code = "NO_ATTEMPTS_LEFT"


class NotEnrolledError(ForbiddenError):
    code = "NOT_ENROLLED"


class _StaleCopyError(LmsError):
    """The published copy is older than the course's pointer (a publish since): refresh and retry."""


class Attempt(Entity):
    attempt_id: str = Field(default_factory=new_id)
    lesson_id: str
    course_id: str
    user_id: str
    version: int
    number: int = Field(ge=1, description="the student's n-th attempt of this quiz")
    status: AttemptStatus = AttemptStatus.IN_PROGRESS
    started_at: UtcDatetime
    deadline: UtcDatetime
    time_limit_seconds: int | None = None
    closes_at: UtcDatetime | None = None  # the student's close (override included): review after it
    submitted_at: UtcDatetime | None = None
    auto_submitted: bool = False
    # The drawn questions in the student's order, options in the student's order, keys included:
    # the attempt is graded against this copy, whatever happens to the bank.
    questions: list[dict[str, Any]]
    answers: dict[str, Any] = Field(default_factory=dict)
    points: dict[str, float] = Field(default_factory=dict)
    essay_feedback: dict[str, str] = Field(default_factory=dict)
    score: float | None = None
    max_score: float
    percentage: float | None = None
    passed: bool | None = None
    pass_percentage: float
    grading_method: GradingMethod
    review_after_submit: ReviewLevel
    review_after_close: ReviewLevel
    graded_at: UtcDatetime | None = None
    outcome: str | None = None  # GradingTimedOut, Ended: why a run ended without a grade
    execution_name: str
    execution_arn: str = ""

    def parsed_questions(self) -> list[Question]:
        return [Question.model_validate(q) for q in self.questions]


def attempt_item(attempt: Attempt) -> Item:
    return {
        **keys.attempt(attempt.attempt_id).as_item(),
        keys.GSI1PK: keys.lesson_attempts(attempt.lesson_id),
        keys.GSI1SK: keys.attempt_in_lesson_sort(attempt.user_id, isoformat(attempt.started_at)),
        **attempt.attributes(),
    }


def get_attempt(table: Table, attempt_id: str) -> Attempt | None:
    item = table.get(keys.attempt(attempt_id), consistent=True)
    return Attempt.from_item(item) if item else None


# --- starting -------------------------------------------------------------------------------------


def deadline_for(started_at: datetime, quiz: PublishedQuiz, override: Override | None) -> datetime:
    """The time limit plus any extension, capped by the student's close time."""
    settings = quiz.settings
    extra = override.extra_time_seconds if override else 0
    limit = settings.time_limit_seconds
    end = started_at + timedelta(seconds=(limit + extra) if limit else UNTIMED_ATTEMPT_SECONDS)
    _, closes = quizzes.effective_window(settings, override.closes_at if override else None)
    return min(end, closes) if closes else end


def draw(quiz: PublishedQuiz, rng: random.Random) -> list[dict[str, Any]]:
    """The attempt's questions: fixed ones, then N from each category, shuffled as the quiz says."""
    by_id = {q.question_id: q for q in quiz.questions}
    fixed = [e.question_id for e in quiz.settings.items if isinstance(e, FixedItem)]
    chosen: list[Question] = [by_id[i] for i in fixed if i in by_id]
    taken = {q.question_id for q in chosen}
    for entry in quiz.settings.items:
        if isinstance(entry, DrawnItem):
            pool = [q for q in quiz.questions if q.category == entry.category and q.question_id not in taken]
            picked = rng.sample(pool, min(entry.count, len(pool)))
            chosen.extend(picked)
            taken.update(q.question_id for q in picked)
    if quiz.settings.shuffle_questions:
        rng.shuffle(chosen)
    drawn = []
    for question in chosen:
        stored = question.attributes()
        if quiz.settings.shuffle_options and stored.get("options"):
            rng.shuffle(stored["options"])
        if question.pairs:
            rights = [p.right for p in question.pairs]
            rng.shuffle(rights)  # in the key's order the answer would show
            stored["choiceOrder"] = rights
        drawn.append(stored)
    return drawn


def student_question(stored: dict[str, Any]) -> dict[str, Any]:
    """A drawn question as the student sees it while answering: no answer key, no feedback."""
    question = Question.model_validate(stored)
    view = question.student_view(
        option_order=[o["optionId"] for o in stored.get("options") or []],
        right_order=stored.get("choiceOrder"),
    )
    return view


@dataclass(frozen=True)
class StartPlan:
    """A start the API has written, and what the workflow's start needs."""

    attempt: Attempt
    timeout_seconds: int


def start_attempt(
    table: Table,
    principal: Principal,
    lesson_id: str,
    *,
    execution_name: Callable[[str], tuple[str, str]],
    rng: random.Random | None = None,
) -> StartPlan:
    """Start an attempt for an enrolled student: one batch read and one transaction.

    ``execution_name(attemptId)`` answers the workflow's (name, arn). Raises 422 (not open yet,
    closed, no attempts left), 409 (an attempt in progress, naming it) or 403 (not enrolled).
    """
    user_id = principal.user_id
    wanted = [keys.published_quiz(lesson_id), keys.student_quiz(user_id, lesson_id)]
    wanted.append(keys.quiz_override(user_id, lesson_id))
    found = table.batch_get(wanted)
    quiz = quizzes.published_quiz(table, lesson_id, found.get(keys.published_quiz(lesson_id)))
    record = found.get(keys.student_quiz(user_id, lesson_id)) or {}
    override = override_from(found.get(keys.quiz_override(user_id, lesson_id)))
    try:
        return _start(table, quiz, record, override, user_id, execution_name, rng or random.SystemRandom())
    except _StaleCopyError:
        fresh = quizzes.refresh_published(table, lesson_id)
        return _start(table, fresh, record, override, user_id, execution_name, rng or random.SystemRandom())


def _start(
    table: Table,
    quiz: PublishedQuiz,
    record: Item,
    override: Override | None,
    user_id: str,
    execution_name: Callable[[str], tuple[str, str]],
    rng: random.Random,
) -> StartPlan:
    now = utcnow()
    settings = quiz.settings
    opens, closes = quizzes.effective_window(settings, override.closes_at if override else None)
    if opens and now < opens:
        raise QuizNotOpenError(
            f"The quiz opens at {isoformat(opens)}.", details={"opensAt": isoformat(opens)}
        )
    if closes and now >= closes:
        raise QuizClosedError(
            f"The quiz closed at {isoformat(closes)}.", details={"closesAt": isoformat(closes)}
        )
    if record.get("inProgress"):
        raise AttemptInProgressError(
            "Finish the attempt in progress first.", details={"attemptId": record["inProgress"]}
        )
    started = int(record.get("attemptsStarted", 0))
    allowed = (
        settings.max_attempts + (override.extra_attempts if override else 0)
        if settings.max_attempts
        else None
    )
    if allowed is not None and started >= allowed:
        raise NoAttemptsLeftError(
            f"All {allowed} attempt(s) of this quiz are used.", details={"attemptsAllowed": allowed}
        )
    attempt_id = new_id()
    name, arn = execution_name(attempt_id)
    deadline = deadline_for(now, quiz, override)
    questions = draw(quiz, rng)
    attempt = Attempt(
        attempt_id=attempt_id,
        lesson_id=quiz.lesson_id,
        course_id=quiz.course_id,
        user_id=user_id,
        version=quiz.version,
        number=started + 1,
        started_at=now,
        deadline=deadline,
        time_limit_seconds=settings.time_limit_seconds,
        closes_at=closes,
        questions=questions,
        max_score=sum(float(q["points"]) for q in questions),
        pass_percentage=settings.pass_percentage,
        grading_method=settings.grading_method,
        review_after_submit=settings.review.after_submit,
        review_after_close=settings.review.after_close,
        execution_name=name,
        execution_arn=arn,
    )
    unchanged = absent("attemptsStarted") if not started else eq("attemptsStarted", started)
    writes: list[Write] = [
        Put(attempt_item(attempt), when=item_absent()),
        Change(
            keys.student_quiz(user_id, quiz.lesson_id),
            Update()
            .set(inProgress=attempt_id, lessonId=quiz.lesson_id, courseId=quiz.course_id, userId=user_id)
            .add(attemptsStarted=1),
            when=absent("inProgress") & unchanged,
        ),
        Check(keys.enrollment(user_id, quiz.course_id), eq("status", EnrollmentStatus.ACTIVE.value)),
        Check(keys.published_pointer(quiz.course_id), eq("publishedVersion", quiz.version)),
    ]
    table.transact(writes, otherwise=_start_refused)
    return StartPlan(attempt, timeout_seconds=max(1, math.ceil((deadline - now).total_seconds())))


def _start_refused(failed: tuple[int, ...]) -> LmsError:
    if 2 in failed:
        return NotEnrolledError("Only students enrolled in this course take its quizzes.")
    if 3 in failed:
        return _StaleCopyError("a newer version was published")
    return AttemptInProgressError("Another attempt started at the same time; reload your attempts.")


# --- answering and submitting -----------------------------------------------------------------------


def _own(table: Table, principal: Principal, attempt_id: str) -> Attempt:
    attempt = get_attempt(table, attempt_id)
    if attempt is None or attempt.user_id != principal.user_id:
        raise NotFoundError(f"No attempt with id {attempt_id}.")
    return attempt


def save_answers(table: Table, principal: Principal, attempt_id: str, answers: dict[str, Any]) -> Attempt:
    """Keep the given answers (others stay); refused after submit or the deadline (server time)."""
    attempt = _own(table, principal, attempt_id)
    now = utcnow()
    if attempt.status != AttemptStatus.IN_PROGRESS or now >= attempt.deadline:
        raise AttemptClosedError("The attempt is closed: it was submitted or its deadline passed.")
    by_id = {q.question_id: q for q in attempt.parsed_questions()}
    unknown = sorted(set(answers) - set(by_id))
    if unknown:
        raise ValidationError("These questions are not in the attempt.", details={"questionIds": unknown})
    checked = {qid: check_answer(by_id[qid], answer) for qid, answer in answers.items()}
    changes = (
        Update()
        .set({f"answers.{qid}": answer for qid, answer in checked.items()})
        .set(updatedAt=isoformat(now))
    )
    open_now = eq("status", AttemptStatus.IN_PROGRESS.value) & gt("deadline", isoformat(now))
    writes: list[Write] = [
        Change(keys.attempt(attempt_id), changes, when=open_now),
        Check(
            keys.enrollment(attempt.user_id, attempt.course_id), eq("status", EnrollmentStatus.ACTIVE.value)
        ),
    ]

    def refused(failed: tuple[int, ...]) -> LmsError:
        if 1 in failed:
            return NotEnrolledError("Your enrollment in this course ended; the attempt is closed.")
        return AttemptClosedError("The attempt is closed: it was submitted or its deadline passed.")

    table.transact(writes, otherwise=refused)
    return attempt.model_copy(update={"answers": {**attempt.answers, **checked}})


def submit(
    table: Table, port: callbacks.WorkflowCallbacks, principal: Principal, attempt_id: str
) -> tuple[Attempt, bool]:
    """Submit once: the first submit wins; a repeated submit answers the attempt as it is.

    Also answers whether the waiting run was resumed here; when it was not (it has not reached its
    wait yet, or its start was lost) the caller makes sure the run exists: its wait finds the attempt
    submitted and goes on at once."""
    now = utcnow()
    submitted = table.update_if(
        keys.attempt(attempt_id),
        Update().set(status=AttemptStatus.SUBMITTED.value, submittedAt=isoformat(now), autoSubmitted=False),
        when=eq("status", AttemptStatus.IN_PROGRESS.value) & eq("userId", principal.user_id),
    )
    if submitted is None:
        return _own(table, principal, attempt_id), True
    attempt = Attempt.from_item(submitted)
    release(table, attempt)
    token = submitted.get(callbacks.TASK_TOKEN_ATTRIBUTE)
    if token:
        # The run waits on this token; a run that stopped waiting grades from its own timeout path.
        port.succeed(str(token), {"submitted": True})
    return attempt, bool(token)


def release(table: Table, attempt: Attempt) -> None:
    """The student may start another attempt (idempotent; the workflow repeats it when it grades)."""
    table.update_if(
        keys.student_quiz(attempt.user_id, attempt.lesson_id),
        Update().remove("inProgress"),
        when=eq("inProgress", attempt.attempt_id),
    )


def apply_override(table: Table, lesson_id: str, override: Override) -> Attempt | None:
    """Move the deadline of the student's attempt in progress, if any, to what ``override`` gives."""
    record = table.get(keys.student_quiz(override.user_id, lesson_id), consistent=True) or {}
    attempt = get_attempt(table, str(record["inProgress"])) if record.get("inProgress") else None
    if attempt is None or attempt.status != AttemptStatus.IN_PROGRESS:
        return None
    extra = override.extra_time_seconds
    limit = attempt.time_limit_seconds
    end = attempt.started_at + timedelta(seconds=(limit + extra) if limit else UNTIMED_ATTEMPT_SECONDS)
    closes = override.closes_at or attempt.closes_at
    deadline = min(end, closes) if closes else end
    updated = table.update_if(
        keys.attempt(attempt.attempt_id),
        Update().set(deadline=isoformat(deadline), closesAt=isoformat(closes) if closes else None),
        when=eq("status", AttemptStatus.IN_PROGRESS.value),
    )
    return Attempt.from_item(updated) if updated else None


# --- reading ------------------------------------------------------------------------------------------


def review_level(attempt: Attempt, now: datetime) -> ReviewLevel:
    closed = attempt.closes_at is not None and now >= attempt.closes_at
    return attempt.review_after_close if closed else attempt.review_after_submit


def attempt_view(attempt: Attempt, *, manager: bool, now: datetime | None = None) -> dict[str, Any]:
    """The attempt as the caller may see it: a student per the review setting, managers everything."""
    now = now or utcnow()
    view: dict[str, Any] = {
        "attemptId": attempt.attempt_id,
        "lessonId": attempt.lesson_id,
        "courseId": attempt.course_id,
        "userId": attempt.user_id,
        "number": attempt.number,
        "status": attempt.status.value,
        "startedAt": isoformat(attempt.started_at),
        "deadline": isoformat(attempt.deadline),
        "submittedAt": isoformat(attempt.submitted_at) if attempt.submitted_at else None,
        "autoSubmitted": attempt.auto_submitted,
        "executionName": attempt.execution_name,
        "outcome": attempt.outcome,
    }
    if attempt.status == AttemptStatus.IN_PROGRESS and not manager:
        view["questions"] = [student_question(q) for q in attempt.questions]
        view["answers"] = attempt.answers
        return view
    level = REVIEW_ALL if manager else review_level(attempt, now)
    rank = REVIEW_RANK[level]
    if rank >= REVIEW_RANK[ReviewLevel.SCORE] and attempt.status == AttemptStatus.GRADED:
        view.update(
            score=attempt.score,
            maxScore=attempt.max_score,
            percentage=attempt.percentage,
            passed=attempt.passed,
        )
    if rank >= REVIEW_RANK[ReviewLevel.FEEDBACK]:
        questions = []
        for stored in attempt.questions:
            shown = student_question(stored)
            qid = shown["questionId"]
            shown["answer"] = attempt.answers.get(qid)
            shown["points"] = stored["points"]
            shown["earned"] = attempt.points.get(qid)
            shown["feedback"] = attempt.essay_feedback.get(qid) or stored.get("feedback")
            if rank >= REVIEW_RANK[ReviewLevel.ANSWERS]:
                shown["key"] = {k: stored[k] for k in KEY_FIELDS if k in stored}
            questions.append(shown)
        view["questions"] = questions
    return view


REVIEW_ALL = ReviewLevel.ANSWERS
REVIEW_RANK = {level: rank for rank, level in enumerate(ReviewLevel)}


def readable_attempt(table: Table, principal: Principal, attempt_id: str) -> tuple[Attempt, bool]:
    """The attempt for its student, or the course's owner instructor and admins (``manager``)."""
    attempt = get_attempt(table, attempt_id)
    if attempt is None:
        raise NotFoundError(f"No attempt with id {attempt_id}.")
    if attempt.user_id == principal.user_id:
        return attempt, False
    if can_manage(principal, get_course(table, attempt.course_id)):
        return attempt, True
    raise NotFoundError(f"No attempt with id {attempt_id}.")


def list_attempts(
    table: Table,
    principal: Principal,
    lesson_id: str,
    *,
    user_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Attempt], bool, str | None]:
    """A student's own attempts; a manager's view of everyone's (or ``user_id``'s)."""
    from lms.courses.lessons import find_lesson

    lesson = find_lesson(table, lesson_id)
    manager = can_manage(principal, get_course(table, lesson.course_id))
    whose = user_id if manager else principal.user_id
    page = table.query(
        partition=(keys.GSI1PK, keys.lesson_attempts(lesson_id)),
        sort_prefix=(keys.GSI1SK, keys.student_attempts_prefix(whose)) if whose else None,
        index=keys.GSI1,
        limit=limit,
        cursor=cursor,
    )
    return [Attempt.from_item(item) for item in page.items], manager, page.next_cursor


# --- the workflow's side --------------------------------------------------------------------------------


def hold_submit_token(table: Table, port: callbacks.WorkflowCallbacks, attempt_id: str, token: str) -> bool:
    """Keep the run's token on the attempt while it is in progress; an attempt submitted before the
    run got here is resumed at once with the token itself. True while it waits for the student."""
    held = callbacks.store_token(
        table, keys.attempt(attempt_id), token, when=eq("status", AttemptStatus.IN_PROGRESS.value)
    )
    if not held:
        port.succeed(token, {"submitted": True})
    return held


@dataclass(frozen=True)
class DeadlineCheck:
    wait_more: bool
    timeout_seconds: int


def close_at_deadline(table: Table, attempt_id: str, now: datetime | None = None) -> DeadlineCheck:
    """The wait timed out: wait on if an extension moved the deadline, else submit with saved answers."""
    now = now or utcnow()
    attempt = get_attempt(table, attempt_id)
    if attempt is None:
        raise NotFoundError(f"No attempt with id {attempt_id}.")
    remaining = math.ceil((attempt.deadline - now).total_seconds())
    if attempt.status == AttemptStatus.IN_PROGRESS and remaining >= 1:
        return DeadlineCheck(wait_more=True, timeout_seconds=remaining)
    table.update_if(
        keys.attempt(attempt_id),
        Update()
        .set(
            status=AttemptStatus.SUBMITTED.value, submittedAt=isoformat(attempt.deadline), autoSubmitted=True
        )
        .remove(callbacks.TASK_TOKEN_ATTRIBUTE),
        when=eq("status", AttemptStatus.IN_PROGRESS.value),
    )
    return DeadlineCheck(wait_more=False, timeout_seconds=1)


@dataclass(frozen=True)
class GradingStep:
    outcome: str  # Graded, AwaitingEssays, Ended
    essays: list[str] = field(default_factory=list)
    event: dict[str, Any] | None = None


# Records the quiz's lesson-level grade: lms.assessments.grades.record_grade (the grading half).
GradeRecorder = Callable[..., object]


def grade(table: Table, attempt_id: str, record_grade: GradeRecorder) -> GradingStep:
    """Grade what can be graded automatically; essays wait for a person. Idempotent."""
    attempt = get_attempt(table, attempt_id)
    if attempt is None:
        raise NotFoundError(f"No attempt with id {attempt_id}.")
    if attempt.status == AttemptStatus.IN_PROGRESS:
        raise ConflictError(f"Attempt {attempt_id} is still in progress.")
    release(table, attempt)
    if attempt.status == AttemptStatus.ENDED:
        return GradingStep("Ended")
    if attempt.status == AttemptStatus.GRADED:
        return GradingStep("Graded", event=graded_event(attempt))
    enrollment = table.get(keys.enrollment(attempt.user_id, attempt.course_id), consistent=True)
    if not enrollment or enrollment.get("status") != EnrollmentStatus.ACTIVE.value:
        return _end(table, attempt)
    score, per_question = score_attempt(attempt.parsed_questions(), attempt.answers)
    if score.pending_essays:
        table.update_if(
            keys.attempt(attempt_id),
            Update().set(
                status=AttemptStatus.AWAITING_GRADING.value,
                points={q: p for q, p in per_question.items() if p is not None},
            ),
            when=eq("status", AttemptStatus.SUBMITTED.value),
        )
        return GradingStep("AwaitingEssays", essays=list(score.pending_essays))
    return _finish(table, attempt, score, per_question, {}, record_grade)


def _end(table: Table, attempt: Attempt) -> GradingStep:
    table.update_if(
        keys.attempt(attempt.attempt_id),
        Update().set(status=AttemptStatus.ENDED.value, outcome="Ended"),
        when=one_of("status", (AttemptStatus.SUBMITTED.value, AttemptStatus.IN_PROGRESS.value)),
    )
    return GradingStep("Ended")


def end_attempts_in_course(
    table: Table, port: callbacks.WorkflowCallbacks, user_id: str, course_id: str
) -> list[str]:
    """The enrollment was revoked: the student's attempts in progress in the course end now (no more
    answers; kept on record) and their runs are resumed to close. Idempotent; answers their ids."""
    records = table.query_all(
        partition=(keys.PK, keys.user_index(user_id)), sort_prefix=(keys.SK, keys.QUIZ_PREFIX)
    )
    ended = []
    for record in records:
        attempt_id = record.get("inProgress")
        if record.get("courseId") != course_id or not attempt_id:
            continue
        stopped = table.update_if(
            keys.attempt(str(attempt_id)),
            Update().set(status=AttemptStatus.ENDED.value, outcome="Ended", endedAt=isoformat(utcnow())),
            when=eq("status", AttemptStatus.IN_PROGRESS.value),
        )
        if stopped is None:
            continue
        attempt = Attempt.from_item(stopped)
        release(table, attempt)
        token = stopped.get(callbacks.TASK_TOKEN_ATTRIBUTE)
        if token:
            port.succeed(str(token), {"ended": True})
        ended.append(attempt.attempt_id)
    return ended


def finish_essays(
    table: Table, attempt_id: str, grades: dict[str, tuple[float, str | None]], record_grade: GradeRecorder
) -> GradingStep:
    """Every essay has its points from a person: the attempt is graded (once)."""
    attempt = get_attempt(table, attempt_id)
    if attempt is None:
        raise NotFoundError(f"No attempt with id {attempt_id}.")
    if attempt.status == AttemptStatus.GRADED:
        return GradingStep("Graded", event=graded_event(attempt))
    essay_points = {qid: points for qid, (points, _) in grades.items()}
    feedback = {qid: text for qid, (_, text) in grades.items() if text}
    score, per_question = score_attempt(attempt.parsed_questions(), attempt.answers, essay_points)
    if score.pending_essays:
        raise ConflictError(
            f"Essays {', '.join(score.pending_essays)} of attempt {attempt_id} have no grade."
        )
    return _finish(table, attempt, score, per_question, feedback, record_grade)


def _finish(
    table: Table,
    attempt: Attempt,
    score: AttemptScore,
    per_question: dict[str, float | None],
    feedback: dict[str, str],
    record_grade: GradeRecorder,
) -> GradingStep:
    now = utcnow()
    passed = score.percentage >= attempt.pass_percentage
    graded = table.update_if(
        keys.attempt(attempt.attempt_id),
        Update().set(
            status=AttemptStatus.GRADED.value,
            score=score.score,
            maxScore=score.max_score,
            percentage=score.percentage,
            passed=passed,
            points={q: p for q, p in per_question.items() if p is not None},
            essayFeedback=feedback,
            gradedAt=isoformat(now),
        ),
        when=one_of("status", (AttemptStatus.SUBMITTED.value, AttemptStatus.AWAITING_GRADING.value)),
    )
    current = Attempt.from_item(graded) if graded else get_attempt(table, attempt.attempt_id)
    if current is None or current.status != AttemptStatus.GRADED:
        raise ConflictError(
            f"Attempt {attempt.attempt_id} could not be graded (it is {current and current.status})."
        )
    record_lesson_grade(table, current, record_grade)
    return GradingStep("Graded", event=graded_event(current))


def record_lesson_grade(table: Table, attempt: Attempt, record_grade: GradeRecorder) -> None:
    """The student's grade of the quiz by its grading method over every graded attempt."""
    items = table.query_all(
        partition=(keys.GSI1PK, keys.lesson_attempts(attempt.lesson_id)),
        sort_prefix=(keys.GSI1SK, keys.student_attempts_prefix(attempt.user_id)),
        index=keys.GSI1,
    )
    attempts = sorted((Attempt.from_item(i) for i in items), key=lambda a: a.started_at)
    graded = [a for a in attempts if a.status == AttemptStatus.GRADED and a.percentage is not None]
    if attempt.attempt_id not in {a.attempt_id for a in graded}:
        graded.append(attempt)  # the index may lag the write that graded it
    percentage = grade_by_method(attempt.grading_method, [float(a.percentage or 0) for a in graded]) or 0.0
    record_grade(
        table,
        course_id=attempt.course_id,
        lesson_id=attempt.lesson_id,
        user_id=attempt.user_id,
        kind="quiz",
        source_id=attempt.attempt_id,
        percentage=percentage,
        points=round(attempt.max_score * percentage / 100, 4),
        max_points=attempt.max_score,
        passed=percentage >= attempt.pass_percentage,
        attempts_used=len(attempts),
    )


def graded_event(attempt: Attempt) -> dict[str, Any]:
    """The AttemptGraded detail (one id per attempt: a retried step announces the same event)."""
    from lms.events import Actor, AttemptGraded

    event = AttemptGraded(
        event_id=AttemptGraded.id_for(attempt.attempt_id),
        occurred_at=attempt.graded_at or utcnow(),
        actor=Actor.system("attempt"),
        course_id=attempt.course_id,
        attempt_id=attempt.attempt_id,
        lesson_id=attempt.lesson_id,
        user_id=attempt.user_id,
        score=float(attempt.score or 0),
        max_score=attempt.max_score,
        percentage=float(attempt.percentage or 0),
        passed=bool(attempt.passed),
        auto_submitted=attempt.auto_submitted,
    )
    return event.detail()


def essay_details(attempt: Attempt, question_id: str) -> dict[str, Any]:
    """What the grading queue shows a grader of one essay answer."""
    stored = next((q for q in attempt.questions if q["questionId"] == question_id), None)
    if stored is None:
        raise NotFoundError(f"Question {question_id} is not in attempt {attempt.attempt_id}.")
    return {
        "lessonId": attempt.lesson_id,
        "courseId": attempt.course_id,
        "userId": attempt.user_id,
        "attemptId": attempt.attempt_id,
        "questionId": question_id,
        "questionText": stored["text"],
        "answer": attempt.answers.get(question_id) or "",
        "maxPoints": float(stored["points"]),
        "submittedAt": isoformat(attempt.submitted_at or attempt.deadline),
    }


def expire_essays(table: Table, attempt_id: str, kind: str) -> None:
    """Nobody graded in time: the waiting essays leave the queue, the attempt says why."""
    from lms import human_tasks

    attempt = get_attempt(table, attempt_id)
    if attempt is None:
        return
    for stored in attempt.questions:
        if stored["type"] == "essay":
            human_tasks.expire(
                table, kind, essay_task_id(attempt_id, stored["questionId"]), reason="timed out"
            )
    table.update_if(
        keys.attempt(attempt_id),
        Update().set(outcome="GradingTimedOut"),
        when=eq("status", AttemptStatus.AWAITING_GRADING.value),
    )


def essay_task_id(attempt_id: str, question_id: str) -> str:
    return f"{attempt_id}-{question_id}"
