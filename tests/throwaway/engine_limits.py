"""Throwaway workflows that each make a call AWS Step Functions refuses (see test_engine_limits.py).

* ``throwaway-bloat``: ``Bloat`` returns as many bytes as asked; a ``States.ALL`` Catch -> ``Caught``.
* ``throwaway-double``: ``Parameters`` put the input's blob twice into ``Double``'s input;
  a ``States.ALL`` Catch -> ``Caught``.
* ``throwaway-gather``: a ``Map`` of ``Bloat`` pieces gathered into one output; ``States.ALL`` Catch.
* ``throwaway-await``: ``AwaitAnswer`` hands out a task token (``.waitForTaskToken``) with the timeout
  and heartbeat of the input, retried on ``HandOutUnavailableError``; ``States.Timeout`` -> ``NoAnswer``.
* ``throwaway-linger``: ``Linger`` hands out a task token nobody answers, for longer than the
  execution's ``TimeoutSeconds`` (2 s).
* ``throwaway-rush``: a Lambda task with ``TimeoutSeconds`` 1 whose function sleeps as asked;
  ``States.Timeout`` -> ``TooSlow``.

They are not in :data:`tests.throwaway.THROWAWAY` (which the CDK tests synthesise): they exist to
prove what the local engine enforces, and are deployed only by the tests that use them.
"""

from __future__ import annotations

from tests.throwaway import HERE
from workflows.definition import TaskFunction, Workflow

TASKS = "tests.throwaway.engine_tasks"

BLOAT = Workflow(
    name="throwaway-bloat",
    asl_dir=HERE,
    functions=(TaskFunction("Bloat", handler=f"{TASKS}.bloat", timeout_seconds=10),),
    timeout_seconds=120,
)

DOUBLE = Workflow(
    name="throwaway-double",
    asl_dir=HERE,
    functions=(TaskFunction("Double", handler=f"{TASKS}.bloat", timeout_seconds=10),),
    timeout_seconds=120,
)

GATHER = Workflow(
    name="throwaway-gather",
    asl_dir=HERE,
    functions=(TaskFunction("Bloat", handler=f"{TASKS}.bloat", timeout_seconds=10),),
    timeout_seconds=120,
)

AWAIT = Workflow(
    name="throwaway-await",
    asl_dir=HERE,
    functions=(TaskFunction("HandOut", handler=f"{TASKS}.hand_out", timeout_seconds=10),),
    timeout_seconds=120,
)

LINGER = Workflow(
    name="throwaway-linger",
    asl_dir=HERE,
    functions=(TaskFunction("HandOut", handler=f"{TASKS}.hand_out", timeout_seconds=10),),
    timeout_seconds=2,
)

RUSH = Workflow(
    name="throwaway-rush",
    asl_dir=HERE,
    functions=(TaskFunction("Rush", handler="tests.throwaway.tasks.dawdle", timeout_seconds=30),),
    timeout_seconds=120,
)

ENGINE_LIMITS = (BLOAT, DOUBLE, GATHER, AWAIT, LINGER, RUSH)
