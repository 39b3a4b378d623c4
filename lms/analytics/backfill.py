"""Events for the records that existed before the lake: ``lms analytics backfill``.

Users, completed purchases, enrollments and lesson progress are announced as the events the live
path would have published, each with a deterministic id (``Event.id_for`` of the record's key; the
purchase events use the same ids the purchase workflow uses), so running it twice, or after the
live events already reached the lake, only adds duplicates, which every report drops. An admin job,
not a request: it pages through the admin listings and each user's partition (Queries, no Scan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lms import keys
from lms.entities import Enrollment, EnrollmentStatus, LessonProgress, Transaction, TransactionStatus
from lms.events import (
    Actor,
    EnrollmentCreated,
    EnrollmentRevoked,
    Event,
    LessonProgressRecorded,
    PurchaseCompleted,
    UserRegistered,
)
from lms.identity import list_users
from lms.purchases.records import list_all_transactions
from lms.table import Table

PAGE = 100


def backfill_events(table: Table) -> Iterator[Event]:
    """Every event the existing records imply, with stable ids."""
    transactions: dict[str, Transaction] = {}
    cursor: str | None = None
    while True:
        page, cursor = list_all_transactions(
            table, status=TransactionStatus.COMPLETED, limit=PAGE, cursor=cursor
        )
        transactions.update({t.transaction_id: t for t in page})
        if not cursor:
            break
    for transaction in transactions.values():
        yield PurchaseCompleted(
            event_id=PurchaseCompleted.id_for(transaction.transaction_id),
            occurred_at=transaction.created_at,
            actor=Actor.user(transaction.user_id),
            transaction_id=transaction.transaction_id,
            user_id=transaction.user_id,
            course_id=transaction.course_id,
            amount=transaction.amount.amount if transaction.amount else 0,
            currency=transaction.amount.currency if transaction.amount else "usd",
        )
    cursor = None
    while True:
        users, cursor = list_users(table, limit=PAGE, cursor=cursor)
        for user in users:
            yield UserRegistered(
                event_id=UserRegistered.id_for(user.user_id),
                occurred_at=user.created_at,
                actor=Actor.user(user.user_id),
                user_id=user.user_id,
                role=user.role,
            )
            yield from _learning(table, user.user_id, transactions)
        if not cursor:
            return


def _learning(table: Table, user_id: str, transactions: dict[str, Transaction]) -> Iterator[Event]:
    partition = (keys.PK, f"{keys.USER_PREFIX}{user_id}")
    enrollments = [
        Enrollment.from_item(item)
        for item in table.query_all(partition=partition, sort_prefix=(keys.SK, keys.ENROLLMENT_PREFIX))
    ]
    percentage = {e.course_id: e.progress_percentage for e in enrollments}
    for enrollment in enrollments:
        key = enrollment.transaction_id or f"{user_id}/{enrollment.course_id}"
        paid = transactions.get(enrollment.transaction_id or "")
        yield EnrollmentCreated(
            event_id=EnrollmentCreated.id_for(key),
            occurred_at=enrollment.enrolled_at,
            actor=Actor.user(user_id),
            transaction_id=key,
            user_id=user_id,
            course_id=enrollment.course_id,
            amount=paid.amount.amount if paid and paid.amount else 0,
            enrolled_at=enrollment.enrolled_at,
        )
        if enrollment.status == EnrollmentStatus.REVOKED:
            yield EnrollmentRevoked(
                event_id=EnrollmentRevoked.id_for(key),
                occurred_at=enrollment.last_accessed or enrollment.enrolled_at,
                actor=Actor.system("backfill"),
                transaction_id=key,
                user_id=user_id,
                course_id=enrollment.course_id,
                reason="refunded before the lake",
            )
    progress = [
        LessonProgress.from_item(item)
        for item in table.query_all(partition=partition, sort_prefix=(keys.SK, keys.PROGRESS_PREFIX))
    ]
    latest: dict[str, LessonProgress] = {}
    for lesson in progress:
        if lesson.course_id not in latest or lesson.updated_at > latest[lesson.course_id].updated_at:
            latest[lesson.course_id] = lesson
    for lesson in progress:
        # Only the enrollment's current percentage is known: it is the latest post's.
        is_latest = latest[lesson.course_id] is lesson
        yield LessonProgressRecorded(
            event_id=LessonProgressRecorded.id_for(user_id, lesson.course_id, lesson.lesson_id),
            occurred_at=lesson.updated_at,
            actor=Actor.user(user_id),
            user_id=user_id,
            course_id=lesson.course_id,
            lesson_id=lesson.lesson_id,
            is_completed=lesson.is_completed,
            time_spent_seconds=lesson.time_spent_seconds,
            progress_percentage=percentage.get(lesson.course_id, 0) if is_latest else 0,
        )


def backfill(table: Table, publish: Callable[[Event], None]) -> int:
    """Publish every backfill event; returns how many."""
    count = 0
    for event in backfill_events(table):
        publish(event)
        count += 1
    return count
