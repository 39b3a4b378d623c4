"""The CDK app (``cdk.json``: ``python -m infra.app``). Synthesises offline; checked by cdk-nag."""

from __future__ import annotations

import os

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from infra.nag import acknowledge
from infra.stack import LmsStack
from infra.task_function import invoke_target
from workflows.catalog import WORKFLOWS
from workflows.definition import Workflow

# aws-lambda warns on every function with SnapStart, because SnapStart only restores published versions.
SNAPSTART_PUBLISH_WARNING = "@aws-cdk/aws-lambda:snapStartRequirePublish"


@jsii.implements(cdk.IAspect)
class AcknowledgePublishedSnapStart:
    """Acknowledge that warning on the functions it does not apply to: those with a published version
    behind the ``live`` alias that every caller invokes (infra/task_function.py). A SnapStart function
    without one keeps the warning."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.Function) and isinstance(invoke_target(node), lambda_.Alias):
            cdk.Annotations.of(node).acknowledge_warning(
                SNAPSTART_PUBLISH_WARNING, "published: a version and the live alias callers invoke"
            )


def build_app(
    context: dict[str, object] | None = None,
    outdir: str | None = None,
    workflows: tuple[Workflow, ...] = WORKFLOWS,
) -> tuple[cdk.App, LmsStack]:
    """``workflows`` defaults to the catalog; tests add throwaway entries to it."""
    # The CDK CLI passes CDK_OUTDIR; without the CLI, synthesise into ./cdk.out like it would.
    app = cdk.App(context=context or {}, outdir=outdir or os.environ.get("CDK_OUTDIR") or "cdk.out")
    origins = str(app.node.try_get_context("corsOrigins") or "https://app.example.com").split(",")
    # Email: the SES domain identity mail comes from, and the public URL unsubscribe links point at.
    mail_domain = str(app.node.try_get_context("mailDomain") or "example.com")
    mail_from = app.node.try_get_context("mailFrom")
    public_url = str(app.node.try_get_context("publicUrl") or "https://api.example.com")
    stack = LmsStack(
        app,
        "Lms",
        cors_origins=origins,
        mail_domain=mail_domain,
        mail_from=str(mail_from) if mail_from else None,
        public_url=public_url,
        workflows=workflows,
        description="LMS backend driven by Step Functions",
    )
    acknowledge(stack)
    cdk.Aspects.of(stack).add(AcknowledgePublishedSnapStart())
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
