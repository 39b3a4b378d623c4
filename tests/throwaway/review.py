"""``throwaway-review`` (API-started): a human task declared in the catalog entry and nowhere else.

``AwaitReview`` opens a ``throwaway-review`` task for admins (with the run's token) and waits;
``ExpireReview`` closes it when nobody decided in time. Both handlers are the shared ones
(:mod:`tasks.human_tasks`) bound in ``tests/throwaway/review_tasks.py``.
"""

from __future__ import annotations

from pathlib import Path

from workflows.definition import Workflow
from workflows.human_tasks import HumanTask

TASKS = "tests.throwaway.review_tasks"
REVIEW_TASK = HumanTask(kind="throwaway-review", state="AwaitReview", role="admin", remind_after_seconds=60)

REVIEW = Workflow(
    name="throwaway-review",
    asl_dir=Path(__file__).parent,
    functions=(
        REVIEW_TASK.function(handler=f"{TASKS}.await_review"),
        REVIEW_TASK.closing_function("ExpireReview", handler=f"{TASKS}.expire_review"),
    ),
    timeout_seconds=300,
    human_tasks=(REVIEW_TASK,),
)
