"""Throwaway workflows declared purely through the catalog, to prove the platform builds any workflow.

* ``throwaway-greet`` (API-started): ``Greet`` -> ``Greeted``; its function reports what it sees.
* ``throwaway-upload`` (S3 "Object Created" under ``throwaway/``): ``Inspect`` -> ``Inspected``; a
  container-image function reading the object's metadata through the BlobStore port.
* ``throwaway-dawdle`` (API-started): ``Dawdle`` -> ``Done``; the task sleeps past its timeout.
* ``throwaway-hurry`` (API-started): ``Hurry`` -> ``Done``; the state's own ``TimeoutSeconds`` (1 s)
  is shorter than the function's (30 s).
* ``throwaway-ping`` (a ``Ping`` event on the ``lms`` bus): ``Pong`` -> ``Ponged``.
"""

from __future__ import annotations

from pathlib import Path

from workflows.definition import (
    Access,
    BucketAccess,
    ContainerImage,
    EventTrigger,
    Needs,
    TaskFunction,
    Workflow,
)

HERE = Path(__file__).parent
TASKS = "tests.throwaway.tasks"
UPLOAD_PREFIX = "throwaway/"

GREET = Workflow(
    name="throwaway-greet",
    asl_dir=HERE,
    functions=(
        TaskFunction("Greet", Needs(table=Access.READ), handler=f"{TASKS}.greet", timeout_seconds=10),
    ),
    timeout_seconds=120,
)

UPLOAD = Workflow(
    name="throwaway-upload",
    asl_dir=HERE,
    trigger=EventTrigger(
        pattern={
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"object": {"key": [{"prefix": UPLOAD_PREFIX}]}},
        },
        business_key=("detail.object.key",),
        bus="default",
    ),
    functions=(
        TaskFunction(
            "Inspect",
            Needs(bucket=BucketAccess(Access.READ, UPLOAD_PREFIX)),
            handler=f"{TASKS}.inspect",
            memory_mb=1024,
            timeout_seconds=60,
            ephemeral_storage_mb=2048,
            reserved_concurrency=2,
            packaging=ContainerImage("tests/throwaway/Dockerfile"),
        ),
    ),
    timeout_seconds=600,
    error_alarms=("UnreadableUpload",),
)

DAWDLE = Workflow(
    name="throwaway-dawdle",
    asl_dir=HERE,
    functions=(TaskFunction("Dawdle", handler=f"{TASKS}.dawdle", timeout_seconds=2),),
    timeout_seconds=120,
)

HURRY = Workflow(
    name="throwaway-hurry",
    asl_dir=HERE,
    functions=(TaskFunction("Hurry", handler=f"{TASKS}.dawdle", timeout_seconds=30),),
    timeout_seconds=120,
)

PING = Workflow(
    name="throwaway-ping",
    asl_dir=HERE,
    trigger=EventTrigger(
        pattern={"source": ["lms.tests"], "detail-type": ["Ping"]}, business_key=("detail.pingId",)
    ),
    functions=(TaskFunction("Pong", handler=f"{TASKS}.pong", timeout_seconds=10),),
    timeout_seconds=120,
)

THROWAWAY = (GREET, UPLOAD, DAWDLE, HURRY, PING)
