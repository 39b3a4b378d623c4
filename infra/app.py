"""The CDK app (``cdk.json``: ``python -m infra.app``). Synthesises offline; checked by cdk-nag."""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.nag import acknowledge
from infra.stack import LmsStack
from workflows.catalog import WORKFLOWS
from workflows.definition import Workflow


def build_app(
    context: dict[str, object] | None = None,
    outdir: str | None = None,
    workflows: tuple[Workflow, ...] = WORKFLOWS,
) -> tuple[cdk.App, LmsStack]:
    """``workflows`` defaults to the catalog; tests add throwaway entries to it."""
    # The CDK CLI passes CDK_OUTDIR; without the CLI, synthesise into ./cdk.out like it would.
    app = cdk.App(context=context or {}, outdir=outdir or os.environ.get("CDK_OUTDIR") or "cdk.out")
    origins = str(app.node.try_get_context("corsOrigins") or "https://app.example.com").split(",")
    stack = LmsStack(
        app,
        "Lms",
        cors_origins=origins,
        workflows=workflows,
        description="LMS backend driven by Step Functions",
    )
    acknowledge(stack)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
