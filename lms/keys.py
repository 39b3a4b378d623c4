"""The single-table key design. The only module that formats ``PK``/``SK``/``GSI*`` values.

Access patterns (none of them a Scan):

=============================  ==========================================================
user by id                     GetItem   PK=USER#<id>          SK=PROFILE
user by email (login)          GetItem   PK=EMAIL#<email>      SK=EMAIL -> userId, then the user
                                         (both strongly consistent: login right after register works)
email uniqueness               conditional Put PK=EMAIL#<email> SK=EMAIL (with the user)
all users (admin)              Query x N GSI2PK=USERS#<shard>   GSI2SK=<createdAt>#<id>, shard 0..N-1
                                         (N=USER_LIST_SHARDS queried in parallel, merged by GSI2SK)
a user's enrollments           Query     PK=USER#<id>          SK begins_with ENROLLMENT#
a user's lesson progress       Query     PK=USER#<id>          SK begins_with PROGRESS#<courseId>#
categories                     Query     PK=CATALOG            SK begins_with CATEGORY#
a course and its lessons       Query     PK=COURSE#<id>        (SK=COURSE, SK begins_with LESSON#)
lesson by id                   Query     GSI1PK=LESSON#<id>
published courses by category  Query     GSI1PK=CATEGORY#<id>  GSI1SK begins_with PUBLISHED#
courses by status              Query     GSI2PK=COURSES#<STATUS>
a user's transactions          Query     GSI1PK=USER#<id>      GSI1SK begins_with TRANSACTION#
transactions by status (admin) Query x4  GSI2PK=TRANSACTIONS#<STATUS>#<shard 0..3>, merged newest first
all transactions (admin)       Query x24 every status x shard above, merged newest first
course counters                Get/Update PK=COURSE#<id>       SK=COUNTERS (not in any GSI)
purchase in flight (lock)      Put/Get   PK=USER#<id>          SK=PURCHASE#<courseId>
Stripe event seen (dedup)      Put       PK=STRIPE_EVENT#<id>  SK=EVENT (TTL)
revoked token (logout)         GetItem   PK=REVOKED_TOKEN#<jti> (expires through TTL)
login attempt counter          conditional ADD PK=THROTTLE#<scope>#<subject> SK=WINDOW#<start> (TTL)
=============================  ==========================================================

Write rates (DynamoDB caps one partition at 1,000 WCU/s; both GSIs project ALL attributes, so
every write of an item rewrites its index entries):

* ``USERS#<shard>``: every user write (register, profile change, admin change, login rehash) lands
  in one of ``USER_LIST_SHARDS`` partitions chosen by a hash of the user id, so the worst case is
  about ``USER_LIST_SHARDS`` x 1,000 user writes/s before the index throttles.
* ``EMAIL#<email>`` and ``USER#<id>``: one user each, a handful of writes per login at most.
* ``THROTTLE#<scope>#<subject>``: two ADDs per login (the attempt, given back on success) on the
  account and on the source address, so one address is capped near 500 logins/s (a large NAT
  could meet that); a single source hammering logins is the hot key, which is what it counts.
* ``TRANSACTIONS#<STATUS>#<shard>``: a purchase writes its GSI2 entry 3 times (PENDING, then a
  move to its final status = delete + put), so one unsharded status partition would cap the shop
  near 300-500 purchases/s. Transactions spread over ``TRANSACTION_STATUS_SHARDS`` shards per status
  (a stable hash of the id), so the cap is that many times higher; a status listing queries every
  shard and merges, so pages stay full.
* ``COURSE#<id>`` / ``COUNTERS``: enrollment counters live in their own item outside both GSIs, so a
  popular course's enrollments (one counter update each, ~1,000/s per course) never rewrite the
  course item or its index entries.

GSI2 exists because the catalog and the admin screens list by status or type without a
category or owner to partition on; both GSIs project ALL attributes.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import NamedTuple

PK, SK = "PK", "SK"
GSI1, GSI1PK, GSI1SK = "GSI1", "GSI1PK", "GSI1SK"
GSI2, GSI2PK, GSI2SK = "GSI2", "GSI2PK", "GSI2SK"
TTL_ATTRIBUTE = "ttl"


class Key(NamedTuple):
    pk: str
    sk: str

    def as_item(self) -> dict[str, str]:
        return {PK: self.pk, SK: self.sk}


# --- users -------------------------------------------------------------------------------------

USER_PREFIX = "USER#"
PROFILE = "PROFILE"
USER_LIST_SHARDS = 8  # write shards of the admin user list (see the write rates above)
USERS_PREFIX = "USERS#"


def user(user_id: str) -> Key:
    return Key(f"{USER_PREFIX}{user_id}", PROFILE)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_index(email: str) -> str:
    return f"EMAIL#{normalise_email(email)}"


def email_claim(email: str) -> Key:
    return Key(email_index(email), "EMAIL")


def user_list_shard(user_id: str) -> int:
    """A stable shard for the user: the same id always lands in the same ``USERS#<shard>``."""
    return zlib.crc32(user_id.encode()) % USER_LIST_SHARDS


def user_list_index(shard: int) -> str:
    return f"{USERS_PREFIX}{shard}"


def user_list_sort(created_at: str, user_id: str) -> str:
    return f"{created_at}#{user_id}"


def is_user_list_sort(shard: int, sort: str) -> bool:
    """Whether ``sort`` is a user-list sort key that can live in ``shard`` (cursors are untrusted)."""
    created_at, _, user_id = sort.rpartition("#")
    return bool(created_at and user_id) and user_list_shard(user_id) == shard


def user_list_position(shard: int, sort: str) -> dict[str, str]:
    """The index key of the user at ``sort`` in ``shard`` (an ExclusiveStartKey on GSI2)."""
    user_id = sort.rpartition("#")[2]
    return {**user(user_id).as_item(), GSI2PK: user_list_index(shard), GSI2SK: sort}


def user_index(user_id: str) -> str:
    return f"{USER_PREFIX}{user_id}"


# --- learning ----------------------------------------------------------------------------------

ENROLLMENT_PREFIX = "ENROLLMENT#"
PROGRESS_PREFIX = "PROGRESS#"


def enrollment(user_id: str, course_id: str) -> Key:
    return Key(f"{USER_PREFIX}{user_id}", f"{ENROLLMENT_PREFIX}{course_id}")


def lesson_progress(user_id: str, course_id: str, lesson_id: str) -> Key:
    return Key(f"{USER_PREFIX}{user_id}", f"{PROGRESS_PREFIX}{course_id}#{lesson_id}")


# --- catalog -----------------------------------------------------------------------------------

CATALOG = "CATALOG"
CATEGORY_PREFIX = "CATEGORY#"
COURSE_PREFIX = "COURSE#"
COURSE = "COURSE"
LESSON_PREFIX = "LESSON#"


def category(category_id: str) -> Key:
    return Key(CATALOG, f"{CATEGORY_PREFIX}{category_id}")


def category_index(category_id: str) -> str:
    return f"{CATEGORY_PREFIX}{category_id}"


def course(course_id: str) -> Key:
    return Key(f"{COURSE_PREFIX}{course_id}", COURSE)


def course_partition(course_id: str) -> str:
    return f"{COURSE_PREFIX}{course_id}"


def course_status_index(status: str) -> str:
    return f"COURSES#{status}"


def course_in_category_sort(status: str, created_at: str, course_id: str) -> str:
    return f"{status}#{created_at}#{course_id}"


COUNTERS = "COUNTERS"


def course_counters(course_id: str) -> Key:
    """enrollmentCount and revenueCents, kept off the course item (and out of its index entries)."""
    return Key(f"{COURSE_PREFIX}{course_id}", COUNTERS)


def lesson(course_id: str, lesson_id: str) -> Key:
    return Key(f"{COURSE_PREFIX}{course_id}", f"{LESSON_PREFIX}{lesson_id}")


def lesson_index(lesson_id: str) -> str:
    return f"{LESSON_PREFIX}{lesson_id}"


# --- purchases ---------------------------------------------------------------------------------

TRANSACTION_PREFIX = "TRANSACTION#"


def transaction(transaction_id: str) -> Key:
    return Key(f"{TRANSACTION_PREFIX}{transaction_id}", "TRANSACTION")


PURCHASE_PREFIX = "PURCHASE#"
TRANSACTION_STATUS_SHARDS = 4


def transaction_shard(transaction_id: str) -> int:
    # A stable hash (not hash()): the shard must be the same in every process and after a restart.
    return int(hashlib.sha256(transaction_id.encode()).hexdigest()[:8], 16) % TRANSACTION_STATUS_SHARDS


def transaction_status_index(status: str, transaction_id: str) -> str:
    """GSI2PK of a transaction: it moves whenever the transaction's status changes."""
    return f"TRANSACTIONS#{status}#{transaction_shard(transaction_id)}"


def transaction_status_partitions(status: str) -> list[str]:
    return [f"TRANSACTIONS#{status}#{shard}" for shard in range(TRANSACTION_STATUS_SHARDS)]


def transaction_status_sort(created_at: str, transaction_id: str) -> str:
    return f"{created_at}#{transaction_id}"


def transaction_in_user_sort(created_at: str, transaction_id: str) -> str:
    return f"{TRANSACTION_PREFIX}{created_at}#{transaction_id}"


def purchase_lock(user_id: str, course_id: str) -> Key:
    """At most one purchase of a course by a student is in flight: this item is its lock."""
    return Key(f"{USER_PREFIX}{user_id}", f"{PURCHASE_PREFIX}{course_id}")


def stripe_event(event_id: str) -> Key:
    return Key(f"STRIPE_EVENT#{event_id}", "EVENT")


# --- security ----------------------------------------------------------------------------------


def revoked_token(jti: str) -> Key:
    return Key(f"REVOKED_TOKEN#{jti}", "REVOKED")


def login_failures(scope: str, subject: str, window_start: int) -> Key:
    return Key(f"THROTTLE#{scope}#{subject}", f"WINDOW#{window_start}")


# --- certificates (issue 10: progress and certificate issuance) ----------------------------------
#
# a user's certificates       Query     PK=USER#<id>             SK begins_with CERTIFICATE#
#                                       (one item per course: the listing, and the "issued once" guard)
# certificate by id           GetItem   PK=CERTIFICATE#<id>      SK=CERTIFICATE
# certificate by code         GetItem   PK=CERTIFICATE_CODE#<code> SK=CODE (the public verify route:
#                                       holder name, course, date and status on the item, so one read)
# verification attempts       conditional ADD PK=THROTTLE#verify#<source> SK=WINDOW#<start> (TTL)
# a course's lesson ids       Query     PK=COURSE#<id>           SK begins_with LESSON#
#
# Write rates: a certificate is written once and revoked at most once; the three items live in their
# own partitions (the user's, the certificate's, the code's), so no partition is hot. Progress posts
# write the student's own partition (USER#<id>): one student, a handful of writes per minute.

CERTIFICATE_PREFIX = "CERTIFICATE#"


def certificate(certificate_id: str) -> Key:
    return Key(f"{CERTIFICATE_PREFIX}{certificate_id}", "CERTIFICATE")


def user_certificate(user_id: str, course_id: str) -> Key:
    """The user's listing entry for a course: at most one certificate per (student, course)."""
    return Key(f"{USER_PREFIX}{user_id}", f"{CERTIFICATE_PREFIX}{course_id}")


def certificate_code(code: str) -> Key:
    return Key(f"CERTIFICATE_CODE#{code}", "CODE")


def verification_attempts(source: str, window_start: int) -> Key:
    """Counted like failed logins (same item shape), in their own scope."""
    return login_failures("verify", source, window_start)


def certificate_pdf(certificate_id: str) -> str:
    """The media bucket object of a certificate's PDF (only the rendering function writes there)."""
    return f"{CERTIFICATE_PDF_PREFIX}{certificate_id}.pdf"


CERTIFICATE_PDF_PREFIX = "certificates/"


def course_progress_prefix(course_id: str) -> str:
    """SK prefix of a student's lesson progress items of one course (under PK=USER#<id>)."""
    return f"{PROGRESS_PREFIX}{course_id}#"


# --- publishing (course publishing workflow) ----------------------------------------------------
#
# latest publishing run of a course   Get       PK=COURSE#<id>   SK=PUBLICATION (in the course's Query)
# current published version (pointer) Get       PK=COURSE#<id>   SK=PUBLISHED; carries the published
#                                               course and the listing keys (GSI1 CATEGORY#, GSI2
#                                               COURSES#PUBLISHED) while the course is listed
# a version's snapshot                Query     PK=COURSE_VERSION#<id>#<n>  SK=COURSE, LESSON#<pos>#<id>
# approvals                           human tasks of kind publish-approval (below)
# an instructor's publishing record   Get       PK=USER#<id>     SK=PUBLISHER (count, review flag)
#
# Snapshots live in their own partition per version, so the draft's Query never grows with history;
# the pointer is written last, in the publish transaction, so readers only ever see a complete version.

PUBLICATION = "PUBLICATION"
PUBLISHED_POINTER = "PUBLISHED"
SNAPSHOT_COURSE = "COURSE"


def publication(course_id: str) -> Key:
    return Key(course_partition(course_id), PUBLICATION)


def published_pointer(course_id: str) -> Key:
    return Key(course_partition(course_id), PUBLISHED_POINTER)


def snapshot_partition(course_id: str, version: int) -> str:
    return f"COURSE_VERSION#{course_id}#{version:06d}"


def snapshot_course(course_id: str, version: int) -> Key:
    return Key(snapshot_partition(course_id, version), SNAPSHOT_COURSE)


def snapshot_lesson(course_id: str, version: int, order: int, lesson_id: str) -> Key:
    return Key(snapshot_partition(course_id, version), f"{LESSON_PREFIX}{order:06d}#{lesson_id}")


def published_in_category_sort(published_at: str, course_id: str) -> str:
    return course_in_category_sort("PUBLISHED", published_at, course_id)


def publisher(user_id: str) -> Key:
    return Key(f"{USER_PREFIX}{user_id}", "PUBLISHER")


# --- video processing (issue 9) ----------------------------------------------------------------
# A lesson's video record          Get/Update PK=COURSE#<courseId> SK=VIDEO#<lessonId> (read with the
#                                  course's lessons by the same Query of the course partition)
# S3: uploads/<lessonId>/<uploadId>           the instructor's upload (presigned PUT)
#     media/<lessonId>/<uploadId>/...         that upload's HLS renditions, master playlist, thumbnails

VIDEO_PREFIX = "VIDEO#"
UPLOADS_PREFIX = "uploads/"
MEDIA_PREFIX = "media/"


def lesson_video(course_id: str, lesson_id: str) -> Key:
    return Key(f"{COURSE_PREFIX}{course_id}", f"{VIDEO_PREFIX}{lesson_id}")


def video_upload(lesson_id: str, upload_id: str) -> str:
    return f"{UPLOADS_PREFIX}{lesson_id}/{upload_id}"


def parse_video_upload(key: str) -> tuple[str, str] | None:
    """``(lessonId, uploadId)`` of an upload key, or None for any other key."""
    parts = key.removeprefix(UPLOADS_PREFIX).split("/") if key.startswith(UPLOADS_PREFIX) else []
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def video_media(lesson_id: str, upload_id: str) -> str:
    """The prefix (ending in ``/``) of everything one upload's processing writes."""
    return f"{MEDIA_PREFIX}{lesson_id}/{upload_id}/"


# --- human tasks (approvals, grading, moderation: one mechanism, lms.human_tasks) ----------------
# a task by kind and id             Get       PK=HUMAN_TASK#<kind>#<id>  SK=TASK
# pending tasks of a kind for a role Query    GSI2PK=HUMAN_TASKS#PENDING#<kind>#ROLE#<role>
#                                             GSI2SK=<requestedAt>#<id> (oldest first)
# pending tasks of a kind in a course Query   GSI1PK=HUMAN_TASKS#PENDING#<kind>#COURSE#<courseId>
#                                             GSI1SK=<requestedAt>#<id> (oldest first)
# a version's checklist problems    Query     PK=COURSE_VERSION#<id>#<n>  SK begins_with CHECKLIST#
#
# A task is in the pending partitions only while it waits for a person (both index keys are removed
# when it is decided or expires), so a listing reads pending tasks only and the reminder sweeper
# reads each (kind, role) partition oldest first, stopping at the first task not yet due.
# Write rates: a task is written about four times in its life (open, token, claim, settle); one
# role partition per kind takes every task of that kind, far below 1,000 writes/s for people's work.

HUMAN_TASK_PREFIX = "HUMAN_TASK#"
PENDING_HUMAN_TASKS_PREFIX = "HUMAN_TASKS#PENDING#"
CHECKLIST_PREFIX = "CHECKLIST#"


def human_task(kind: str, task_id: str) -> Key:
    return Key(f"{HUMAN_TASK_PREFIX}{kind}#{task_id}", "TASK")


def pending_tasks_for_role(kind: str, role: str) -> str:
    return f"{PENDING_HUMAN_TASKS_PREFIX}{kind}#ROLE#{role}"


def pending_tasks_in_course(kind: str, course_id: str) -> str:
    return f"{PENDING_HUMAN_TASKS_PREFIX}{kind}#COURSE#{course_id}"


def human_task_sort(requested_at: str, task_id: str) -> str:
    return f"{requested_at}#{task_id}"


def checklist_problems(course_id: str, version: int, position: int, lesson_id: str) -> Key:
    """One lesson's launch-checklist problems for a version (position -1: the course's own)."""
    order = "-COURSE" if position < 0 else f"{position:06d}#{lesson_id}"
    return Key(snapshot_partition(course_id, version), f"{CHECKLIST_PREFIX}{order}")


# --- discussions (issue 17: forums, threads, posts, moderation, subscriptions) -----------------
# a forum by id                 Get       PK=FORUM#<id>             SK=FORUM
# a course's forums             Query     GSI1PK=COURSE_FORUMS#<courseId>  GSI1SK=<createdAt>#<forumId>
# a thread by id                Get       PK=THREAD#<id>            SK=THREAD (counters, flags, course)
# a forum's threads             Query     GSI1PK=FORUM_THREADS#<forumId>, newest first on
#                                         GSI1SK=<1 pinned|0>#<lastPostAt>#<threadId> (pinned first, then
#                                         latest activity: the thread's update moves it)
# a thread's posts, tree order  Query     PK=THREAD#<id>            SK begins_with POST#<path>
#                                         <path> is the materialised path of the post: its ancestors'
#                                         segments then its own, each a fixed-width <createdAt ms><rand>,
#                                         so the sort key order is a depth-first walk of the tree
# a post by id (locator)        Get       PK=POST#<id>              SK=POST -> thread, path, author
# "replied in this thread"      Get       PK=THREAD#<id>            SK=REPLIER#<userId> (the Q&A rule)
# posting rate per user         conditional ADD PK=THROTTLE#post#<userId> SK=WINDOW#<start> (TTL)
# a post's reports              Query     PK=POST_REPORTS#<postId>  SK=REPORTER#<userId> (one per
#                                         reporter: the conditional put is the "not twice" rule)
# moderation                    human tasks of kind post-moderation, task id = the post id (above)
#
# Write rates: a post writes its thread's partition (the post and the thread's counters) and its
# forum's item (counters), so one very busy thread or forum takes every write of its discussion;
# people type far below 1,000 writes/s in one forum.

FORUM_PREFIX = "FORUM#"
THREAD_PREFIX = "THREAD#"
POST_PREFIX = "POST#"
REPLIER_PREFIX = "REPLIER#"


def forum(forum_id: str) -> Key:
    return Key(f"{FORUM_PREFIX}{forum_id}", "FORUM")


def course_forums_index(course_id: str) -> str:
    return f"COURSE_FORUMS#{course_id}"


def forum_in_course_sort(created_at: str, forum_id: str) -> str:
    return f"{created_at}#{forum_id}"


def thread(thread_id: str) -> Key:
    return Key(f"{THREAD_PREFIX}{thread_id}", "THREAD")


def thread_partition(thread_id: str) -> str:
    return f"{THREAD_PREFIX}{thread_id}"


def forum_threads_index(forum_id: str) -> str:
    return f"FORUM_THREADS#{forum_id}"


def thread_in_forum_sort(pinned: bool, last_post_at: str, thread_id: str) -> str:
    return f"{1 if pinned else 0}#{last_post_at}#{thread_id}"


def thread_post(thread_id: str, path: str) -> Key:
    return Key(thread_partition(thread_id), f"{POST_PREFIX}{path}")


def post_locator(post_id: str) -> Key:
    return Key(f"{POST_PREFIX}{post_id}", "POST")


def thread_replier(thread_id: str, user_id: str) -> Key:
    return Key(thread_partition(thread_id), f"{REPLIER_PREFIX}{user_id}")


def posting_attempts(user_id: str, window_start: int) -> Key:
    """Counted like failed logins (same item shape), in their own scope."""
    return login_failures("post", user_id, window_start)


def post_reports_partition(post_id: str) -> str:
    return f"POST_REPORTS#{post_id}"


def post_report(post_id: str, reporter_id: str) -> Key:
    return Key(post_reports_partition(post_id), f"REPORTER#{reporter_id}")


def forum_subscribers_partition(forum_id: str) -> str:
    """A forum's subscribers (Query, paged): PK=FORUM_SUBSCRIBERS#<forumId> SK=USER#<userId> {mode}."""
    return f"FORUM_SUBSCRIBERS#{forum_id}"


def forum_subscription(forum_id: str, user_id: str) -> Key:
    return Key(forum_subscribers_partition(forum_id), f"{USER_PREFIX}{user_id}")


# --- email (lms.mail) ----------------------------------------------------------------------------
# a sent-mail marker                 conditional Put PK=MAIL_SENT#<idempotency key>  SK=MAIL (TTL)
# a user's opt-out of one kind of mail Get/Put   PK=USER#<id>  SK=MAIL_OPT_OUT#<scope>#<scope id>
#                                    (BatchGet for the recipients of one mailing)
#
# One marker per idempotency key, written before the message goes to SES (and removed again if SES
# refuses it), so an at-least-once caller that sends twice with the same key sends one mail. Each
# key is its own partition: no hot key, one write per mail.

MAIL_SENT_PREFIX = "MAIL_SENT#"


def sent_mail(idempotency_key: str) -> Key:
    return Key(f"{MAIL_SENT_PREFIX}{idempotency_key}", "MAIL")


def mail_opt_out(user_id: str, scope: str, scope_id: str) -> Key:
    """The user turned off this kind of mail (for mail whose feature keeps no subscription of its own)."""
    return Key(f"{USER_PREFIX}{user_id}", f"MAIL_OPT_OUT#{scope}#{scope_id}")


# --- analytics (the event lake and the stored report results) ----------------------------------
# S3 keys in the product's bucket. The lake is partitioned by the event's UTC date (dt=YYYY-MM-DD),
# the layout Firehose writes in AWS and the local lake writer writes locally; Athena's query results
# go under their own prefix; each scope's latest report results are one JSON object.

LAKE_EVENTS_PREFIX = "lake/events/"
ATHENA_RESULTS_PREFIX = "analytics/athena-results/"
ANALYTICS_RESULTS_PREFIX = "analytics/results/"
PLATFORM_SCOPE = "platform"
COURSE_SCOPE_PREFIX = "course#"


def lake_partition(day: str) -> str:
    """The lake prefix of one UTC day (``YYYY-MM-DD``)."""
    return f"{LAKE_EVENTS_PREFIX}dt={day}/"


def course_scope(course_id: str) -> str:
    return f"{COURSE_SCOPE_PREFIX}{course_id}"


def analytics_results(scope: str) -> str:
    """The object holding a scope's latest results: ``platform`` or ``course#<id>``."""
    if scope == PLATFORM_SCOPE:
        return f"{ANALYTICS_RESULTS_PREFIX}platform.json"
    if scope.startswith(COURSE_SCOPE_PREFIX) and len(scope) > len(COURSE_SCOPE_PREFIX):
        return f"{ANALYTICS_RESULTS_PREFIX}courses/{scope.removeprefix(COURSE_SCOPE_PREFIX)}.json"
    raise ValueError(f"unknown analytics scope {scope!r}")


# --- discussions: the daily digest ----------------------------------------------------------------
# digest subscribers             Query x N GSI2PK=DIGEST_SUBSCRIBERS#<shard>  GSI2SK=<userId>#<forumId>
#                                          (on the subscription item while its mode is daily_digest;
#                                          N=DIGEST_SHARDS, one Map iteration each)
# a forum's posts of one day     Query     GSI1PK=FORUM_POSTS#<forumId>#<yyyy-mm-dd>  GSI1SK=<createdAt>#<id>
#                                          (on each post item: what a digest of that day lists)

DIGEST_SHARDS = 8


def digest_shard(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % DIGEST_SHARDS


def digest_subscribers_index(shard: int) -> str:
    return f"DIGEST_SUBSCRIBERS#{shard}"


def digest_subscriber_sort(user_id: str, forum_id: str) -> str:
    return f"{user_id}#{forum_id}"


def forum_posts_of_day(forum_id: str, day: str) -> str:
    return f"FORUM_POSTS#{forum_id}#{day}"


# --- assessments: question banks, quizzes, attempts (issue 16, quiz half) -------------------------
# a course's question bank          Query     PK=QUESTION_BANK#<courseId>  SK begins_with QUESTION#
#                                             (?category= narrows the page with a filter)
# a question by id                  Query     GSI1PK=QUESTION#<id> (PUT/DELETE /questions/{id})
# a quiz's draft settings           Get       PK=COURSE#<courseId> SK=QUIZ#<lessonId> (in the course
#                                             partition: the publish capture reads it with the lessons)
# a quiz as version n published it  Get       PK=QUIZ#<lessonId> SK=VERSION#<n> (settings + the copy
#                                             of every question it can draw, answer keys included)
# the quiz students take now        Get       PK=QUIZ#<lessonId> SK=PUBLISHED (a copy of the version
#                                             the course's pointer names, refreshed on the first start
#                                             after a publish; a start checks the pointer in its write)
# a student's quiz record           Get       PK=USER#<id> SK=QUIZ#<lessonId> (attempts started, the
#                                             one in progress)
# a student's override              Get       PK=USER#<id> SK=QUIZ_OVERRIDE#<lessonId>
# an attempt                        Get       PK=ATTEMPT#<id> SK=ATTEMPT
# a lesson's attempts               Query     GSI1PK=ATTEMPTS#<lessonId> GSI1SK=<userId>#<startedAt>
#                                             (one student's: begins_with <userId>#)
#
# Write rates: a start writes the attempt and the student's record (two items in the student's own
# partitions); saves write the attempt only. The hot read is QUIZ#<lessonId>/PUBLISHED during an
# exam everyone starts at once: reads only (3,000 RCU/s per partition), written once per publish.

QUESTION_BANK_PREFIX = "QUESTION_BANK#"
QUESTION_PREFIX = "QUESTION#"
QUIZ_PREFIX = "QUIZ#"
QUIZ_VERSION_PREFIX = "VERSION#"
QUIZ_OVERRIDE_PREFIX = "QUIZ_OVERRIDE#"
ATTEMPT_PREFIX = "ATTEMPT#"


def question(course_id: str, question_id: str) -> Key:
    return Key(f"{QUESTION_BANK_PREFIX}{course_id}", f"{QUESTION_PREFIX}{question_id}")


def question_bank(course_id: str) -> str:
    return f"{QUESTION_BANK_PREFIX}{course_id}"


def question_index(question_id: str) -> str:
    return f"{QUESTION_PREFIX}{question_id}"


def quiz_settings(course_id: str, lesson_id: str) -> Key:
    return Key(course_partition(course_id), f"{QUIZ_PREFIX}{lesson_id}")


def quiz_version(lesson_id: str, version: int) -> Key:
    return Key(f"{QUIZ_PREFIX}{lesson_id}", f"{QUIZ_VERSION_PREFIX}{version:06d}")


def published_quiz(lesson_id: str) -> Key:
    return Key(f"{QUIZ_PREFIX}{lesson_id}", PUBLISHED_POINTER)


def student_quiz(user_id: str, lesson_id: str) -> Key:
    return Key(f"{USER_PREFIX}{user_id}", f"{QUIZ_PREFIX}{lesson_id}")


def quiz_override(user_id: str, lesson_id: str) -> Key:
    return Key(f"{USER_PREFIX}{user_id}", f"{QUIZ_OVERRIDE_PREFIX}{lesson_id}")


def attempt(attempt_id: str) -> Key:
    return Key(f"{ATTEMPT_PREFIX}{attempt_id}", "ATTEMPT")


def lesson_attempts(lesson_id: str) -> str:
    return f"ATTEMPTS#{lesson_id}"


def attempt_in_lesson_sort(user_id: str, started_at: str) -> str:
    return f"{user_id}#{started_at}"


def student_attempts_prefix(user_id: str) -> str:
    return f"{user_id}#"


# --- assessments: assignments, submissions, grades (issue 16, the grading half) ------------------
# A student's grade of one lesson  Get/Put  PK=GRADEBOOK#<courseId>  SK=GRADE#<userId>#<lessonId>
# the course's gradebook           Query    PK=GRADEBOOK#<courseId>  SK begins_with GRADE#
# an assignment's settings         Get/Put  PK=ASSIGNMENT#<lessonId> SK=SETTINGS
# a submission by id               Get      PK=SUBMISSION#<submissionId> SK=SUBMISSION
# a student's live submission      Get/Put  PK=ASSIGNMENT#<lessonId> SK=STUDENT#<userId> -> submissionId
#                                  (resubmitting before grading replaces what it points at)
# a course's enrolled students     Query    GSI1PK=ROSTER#<courseId> (on the enrollment item)
# S3: submissions/<lessonId>/<submissionId>   a student's uploaded work (presigned POST)
# Write rates: a student's grade item is written once per graded attempt or submission; the
# gradebook partition of a course takes every grade of the course, far below 1,000 writes/s.

GRADEBOOK_PREFIX = "GRADEBOOK#"
GRADE_PREFIX = "GRADE#"
ASSIGNMENT_PREFIX = "ASSIGNMENT#"
SUBMISSION_PREFIX = "SUBMISSION#"
SUBMISSIONS_BLOB_PREFIX = "submissions/"
ROSTER_PREFIX = "ROSTER#"


def grade(course_id: str, lesson_id: str, user_id: str) -> Key:
    return Key(f"{GRADEBOOK_PREFIX}{course_id}", f"{GRADE_PREFIX}{user_id}#{lesson_id}")


def gradebook_partition(course_id: str) -> str:
    return f"{GRADEBOOK_PREFIX}{course_id}"


def assignment_settings(lesson_id: str) -> Key:
    return Key(f"{ASSIGNMENT_PREFIX}{lesson_id}", "SETTINGS")


def submission(submission_id: str) -> Key:
    return Key(f"{SUBMISSION_PREFIX}{submission_id}", "SUBMISSION")


def student_submission(lesson_id: str, user_id: str) -> Key:
    return Key(f"{ASSIGNMENT_PREFIX}{lesson_id}", f"STUDENT#{user_id}")


def submission_blob(lesson_id: str, submission_id: str) -> str:
    return f"{SUBMISSIONS_BLOB_PREFIX}{lesson_id}/{submission_id}"


def course_roster(course_id: str) -> str:
    return f"{ROSTER_PREFIX}{course_id}"


def roster_entry(course_id: str, user_id: str) -> dict[str, str]:
    """The index keys that list an enrollment in its course's roster (the gradebook's rows)."""
    return {GSI1PK: course_roster(course_id), GSI1SK: user_id}


# --- credentials (issue 20: verifiable certificates) ---------------------------------------------
# Access patterns:
# issuer's public keys        Query     PK=CREDENTIAL_KEYS          SK begins_with KEY# (did.json)
# current status list         GetItem   PK=STATUS_LIST#CURRENT      SK=POINTER#<issuer did>
# a status list               GetItem   PK=STATUS_LIST#<listId>     SK=LIST (the status route: one GetItem)
# an allocated index          PutItem   PK=STATUS_LIST#<listId>     SK=INDEX#<index> (never reused)
# a credential's status entry GetItem   PK=CERTIFICATE#<id>         SK=CREDENTIAL_STATUS
# Write rates: one allocation per certificate issued and one ADD per refund on the list item; keys
# change only on rotation.

CREDENTIAL_KEYS_PARTITION = "CREDENTIAL_KEYS"
CREDENTIAL_KEY_PREFIX = "KEY#"


def credential_key(kid: str) -> Key:
    return Key(CREDENTIAL_KEYS_PARTITION, f"{CREDENTIAL_KEY_PREFIX}{kid}")


def status_list_pointer(issuer: str) -> Key:
    """The issuer's current list: each issuer (did:web) has lists of its own, signed by it."""
    return Key("STATUS_LIST#CURRENT", f"POINTER#{issuer}")


def status_list(list_id: str) -> Key:
    return Key(f"STATUS_LIST#{list_id}", "LIST")


def status_list_index(list_id: str, index: int) -> Key:
    return Key(f"STATUS_LIST#{list_id}", f"INDEX#{index:06d}")


def credential_status(certificate_id: str) -> Key:
    return Key(f"{CERTIFICATE_PREFIX}{certificate_id}", "CREDENTIAL_STATUS")
