"""The throwaway review workflow's task module: the shared human-task handlers, bound to its task."""

from __future__ import annotations

from tasks.human_tasks import expire_task_handler, open_task_handler
from tests.throwaway.review import REVIEW_TASK

await_review = open_task_handler(REVIEW_TASK)
expire_review = expire_task_handler(REVIEW_TASK)
