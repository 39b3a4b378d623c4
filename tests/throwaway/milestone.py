"""The catalog entry of ``throwaway-milestone``: its typed event and its workflow, nothing else.

With ``throwaway-milestone.asl.json`` and ``milestone_tasks.py`` it is the whole workflow: the
platform test (``tests/workflow/test_platform.py``) deploys it, starts it by publishing the event,
finds it in the ops API and synthesises it, and fails if any other file names it.
"""

from __future__ import annotations

from pathlib import Path

from lms.events import Event
from workflows.definition import EventTrigger, TaskFunction, Workflow


class MilestoneReached(Event):
    """A student reached a milestone of a course (a test-only event). Actor: the student."""

    source = "lms.tests"
    verb = "reached"
    object_type = "milestone"
    object_id_field = "milestone_id"
    outcome = "reached"

    milestone_id: str
    user_id: str
    course_id: str


MILESTONE = Workflow(
    name="throwaway-milestone",  # execution throwaway-milestone-<eventId>
    asl_dir=Path(__file__).parent,
    trigger=EventTrigger(event=MilestoneReached),
    functions=(
        TaskFunction("Celebrate", handler="tests.throwaway.milestone_tasks.celebrate", timeout_seconds=10),
    ),
    timeout_seconds=120,
)
