"""Reports and moderation: a report starts (or joins) its post's moderation run; a person decides once.

* :func:`report_post`: one report per reporter and post (a second is 409 ``ALREADY_REPORTED``, so a
  redelivered request counts once). The report and the post's ``reportCount`` are one transaction;
  a post that reached :data:`HIDE_AT` reports from different people is hidden from students at once,
  until a moderator decides. The caller then starts ``moderation-<postId>`` (idempotent by name).
* The run waits on a human task of kind :data:`KIND` (``lms.human_tasks``: listed per role and per
  course, decided once, reminded) for the course's owner instructor or an admin.
* :func:`apply_decision`: the run's step that applies the verdict to the post exactly once (a
  retried step finds it applied) and announces ``PostModerated``; :func:`notify_participants` then
  mails the reporters and the author, each once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from lms import callbacks, events, human_tasks, keys, mail
from lms.clock import isoformat, utcnow
from lms.discussions import posts
from lms.discussions.forums import is_moderator, require_participant
from lms.entities import Role
from lms.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from lms.expressions import Update, absent, eq, ge, item_absent, item_exists
from lms.table import Change, Put, Table

if TYPE_CHECKING:
    from lms.identity import Principal  # annotations only: task packages carry no argon2 or jwt

KIND = "post-moderation"
MODERATOR_ROLE = Role.ADMIN  # and, per course, the owner instructor (the course listing)
HIDE_AT = 3  # reports from different people hide a post until a moderator decides


class Decision(StrEnum):
    KEEP = "keep"
    HIDE = "hide"


class AlreadyReportedError(ConflictError):
    code = "ALREADY_REPORTED"


def report_key(post_id: str, reporter_id: str) -> keys.Key:
    return keys.post_report(post_id, reporter_id)


def report_post(table: Table, principal: Principal, post_id: str, reason: str) -> dict[str, Any]:
    """Record the report; hide the post at the third reporter. Returns what the run needs to start."""
    located = posts.locate(table, post_id)
    if principal.has_role(Role.ADMIN):
        raise ForbiddenError("Admins moderate reports rather than file them.")
    require_participant(table, principal, located["courseId"], located["instructorId"])
    if located["authorId"] == principal.user_id:
        raise ValidationError("You cannot report your own post.")
    now = isoformat(utcnow())
    post_key = keys.thread_post(located["threadId"], located["path"])
    report = {
        **report_key(post_id, principal.user_id).as_item(),
        "postId": post_id,
        "reporterId": principal.user_id,
        "reason": reason,
        "reportedAt": now,
    }
    table.transact(
        [
            Put(report, when=item_absent()),
            Change(
                post_key, Update().add(reportCount=1).set_if_absent(firstReportedAt=now), when=item_exists()
            ),
        ],
        otherwise=lambda failed: (
            AlreadyReportedError("You have reported this post already.")
            if 0 in failed
            else NotFoundError(f"No post with id {post_id}.")
        ),
    )
    # Hidden from the third reporter on, unless a moderator already decided (a kept post stays kept).
    hidden = table.update_if(
        post_key,
        Update().set(hidden=True, hiddenAt=now),
        when=ge("reportCount", HIDE_AT) & eq("hidden", False) & absent("moderatedAt"),
    )
    current = hidden or table.get(post_key, consistent=True) or {}
    count = int(current.get("reportCount", 1))
    events.publish_for_analytics(
        events.PostReported(
            event_id=events.PostReported.id_for(post_id, principal.user_id),
            actor=events.Actor.user(principal.user_id),
            post_id=post_id,
            thread_id=located["threadId"],
            course_id=located["courseId"],
            reporter_id=principal.user_id,
            report_count=count,
        )
    )
    return {
        "postId": post_id,
        "threadId": located["threadId"],
        "courseId": located["courseId"],
        "instructorId": located["instructorId"],
        "authorId": located["authorId"],
        "reportCount": count,
        "hidden": bool(current.get("hidden")),
    }


def list_reports(
    table: Table, principal: Principal, *, course_id: str | None, limit: int, cursor: str | None
) -> tuple[list[human_tasks.HumanTask], str | None]:
    """Open reports oldest first: every course for an admin, one own course for its instructor."""
    if principal.has_role(Role.ADMIN) and course_id is None:
        return human_tasks.list_pending(table, KIND, role=MODERATOR_ROLE.value, limit=limit, cursor=cursor)
    if course_id is None:
        raise ValidationError("Give ?courseId= of one of your courses.")
    course = table.get(keys.course(course_id))
    if course is None:
        raise NotFoundError(f"No course with id {course_id}.")
    if not is_moderator(principal, str(course["instructorId"])):
        raise ForbiddenError("Only the course's instructor or an administrator sees its reports.")
    return human_tasks.list_pending(table, KIND, course_id=course_id, limit=limit, cursor=cursor)


def decide_report(
    table: Table,
    port: callbacks.WorkflowCallbacks,
    principal: Principal,
    report_id: str,
    decision: Decision,
    note: str | None,
) -> human_tasks.HumanTask:
    """Send the verdict to the waiting run, once (a second decision, or one after the run ended: 409)."""
    task = human_tasks.get_task(table, KIND, report_id)
    if task is None:
        raise NotFoundError(f"No report with id {report_id}.")
    if not is_moderator(principal, str(task.details.get("instructorId", ""))):
        raise ForbiddenError("Only the course's instructor or an administrator decides its reports.")
    output = {"decision": decision.value, "note": note or "", "decidedBy": principal.user_id}
    return human_tasks.decide(
        table,
        port,
        KIND,
        report_id,
        decided_by=principal.user_id,
        outcome=decision.value,
        output=output,
        reason=note,
    )


def apply_decision(
    table: Table, *, post_id: str, decision: Decision, decided_by: str, note: str
) -> dict[str, Any]:
    """Apply the verdict to the post once; a retried step (or a second run) finds it applied."""
    located = posts.locate(table, post_id)
    post_key = keys.thread_post(located["threadId"], located["path"])
    now = isoformat(utcnow())
    applied = table.update_if(
        post_key,
        Update().set(
            hidden=decision == Decision.HIDE,
            moderatedAt=now,
            moderation=decision.value,
            moderatedBy=decided_by,
        ),
        when=item_exists() & absent("moderatedAt"),
    )
    if applied is not None:
        events.publish(
            events.PostModerated(
                event_id=events.PostModerated.id_for(post_id),
                actor=events.Actor.user(decided_by),
                post_id=post_id,
                thread_id=located["threadId"],
                course_id=located["courseId"],
                decision=decision.value,
            )
        )
    current = applied or table.get(post_key, consistent=True) or {}
    return {
        "outcome": "Hidden" if current.get("moderation") == Decision.HIDE.value else "Kept",
        "applied": applied is not None,
        "authorId": located["authorId"],
    }


def reporters(table: Table, post_id: str) -> list[str]:
    """Who reported the post (for their notification)."""
    items = table.query_all(partition=(keys.PK, keys.post_reports_partition(post_id)))
    return [str(item["reporterId"]) for item in items]


def notify_participants(table: Table, *, post_id: str, outcome: str) -> int:
    """Tell the reporters and the author what the moderator decided (each once: the mail's key)."""
    located = posts.locate(table, post_id)
    thread = table.get(keys.thread(located["threadId"])) or {}
    title = str(thread.get("title", "a discussion"))
    verdict = "hidden" if outcome == "Hidden" else "kept"
    sent = 0
    for reporter in reporters(table, post_id):
        sent += mail.send(
            table,
            to_user_id=reporter,
            subject=f"Your report in {title}: the post was {verdict}",
            text=f"Thank you for your report. A moderator reviewed the post and it was {verdict}.\n",
            idempotency_key=f"moderation-{post_id}-{reporter}",
        )
    sent += mail.send(
        table,
        to_user_id=str(located["authorId"]),
        subject=f"Your post in {title} was reviewed: {verdict}",
        text=f"Your post was reported and a moderator reviewed it: it was {verdict}.\n",
        idempotency_key=f"moderation-{post_id}-{located['authorId']}",
    )
    return sent
