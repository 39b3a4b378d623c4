from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def synthesize(
    outdir: Path, workflows: tuple[Any, ...] | None = None, *, resource_limit: int | None = None
) -> tuple[Any, Path, Any]:
    from aws_cdk.assertions import Template

    from infra.app import build_app

    options = {} if workflows is None else {"workflows": workflows}
    # Bundling (pip for Lambda's platform) is skipped here; `make synth` does it for real.
    context: dict[str, Any] = {"aws:cdk:bundling-stacks": []}
    if resource_limit is not None:
        context["@aws-cdk/core:stackResourceLimit"] = resource_limit
    app, stack = build_app(context, outdir=str(outdir), **options)
    assembly = app.synth()  # raises if cdk-nag (a CDK validation plugin) reports an unacknowledged error
    return Template.from_stack(stack), Path(assembly.directory) / "Lms.template.json", stack


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    template, template_file, _ = synthesize(tmp_path_factory.mktemp("cdk.out"))
    return template, template_file


@pytest.fixture(scope="session")
def synthesized_with_throwaway(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Any]:
    """The product plus the throwaway workflows of tests/throwaway, added only through the catalog.

    Never deployed, so CDK's check of CloudFormation's 500-resource limit is raised for it alone; the
    product's own synthesis (``synthesized``) keeps the limit."""
    from tests.throwaway import THROWAWAY
    from workflows.catalog import WORKFLOWS

    return synthesize(tmp_path_factory.mktemp("cdk.out"), (*WORKFLOWS, *THROWAWAY), resource_limit=1000)
