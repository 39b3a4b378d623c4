from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from aws_cdk.assertions import Template

    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    # Bundling (pip for Lambda's platform) is skipped here; `make synth` does it for real.
    app, stack = build_app({"aws:cdk:bundling-stacks": []}, outdir=str(outdir))
    assembly = app.synth()  # raises if cdk-nag (a CDK validation plugin) reports an unacknowledged error
    return Template.from_stack(stack), Path(assembly.directory) / "Lms.template.json"
