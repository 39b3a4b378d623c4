"""What `npx aws-cdk synth` sees: the app with cdk.json's context synthesises, every feature flag the
installed aws-cdk-lib recommends is set (the CLI counts the unset ones), and the SnapStart "only
supports published versions" warning is acknowledged exactly where each function has its version."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk

ROOT = Path(__file__).resolve().parents[2]


def _cdk_json_context() -> dict[str, Any]:
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


def _recommended_flags() -> dict[str, Any]:
    """What `cdk init` writes into cdk.json for this aws-cdk-lib version."""
    (bundle,) = (Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(bundle) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        return dict(json.load(member))


def _warnings(assembly: Any, stack_name: str) -> list[str]:
    messages = assembly.get_stack_artifact(stack_name).messages
    return [str(m.entry.data) for m in messages if "WARN" in str(m.level)]


def test_cdk_json_sets_every_recommended_feature_flag() -> None:
    context = _cdk_json_context()
    assert sorted(set(_recommended_flags()) - set(context)) == []


def test_the_app_synthesises_with_cdk_json_and_no_snapstart_warning(tmp_path: Path) -> None:
    from infra.app import SNAPSTART_PUBLISH_WARNING, build_app

    context = {**_cdk_json_context(), "aws:cdk:bundling-stacks": []}
    app, stack = build_app(context, outdir=str(tmp_path))
    assembly = app.synth()  # raises on an unacknowledged cdk-nag error
    template = json.loads((Path(assembly.directory) / "Lms.template.json").read_text())
    snapstart = [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and "SnapStart" in resource["Properties"]
    ]
    assert snapstart, "the stack has SnapStart functions, so the check below is not vacuous"
    assert [w for w in _warnings(assembly, stack.stack_name) if SNAPSTART_PUBLISH_WARNING in w] == []


def test_a_snapstart_function_without_a_published_version_keeps_the_warning(tmp_path: Path) -> None:
    from aws_cdk import aws_lambda as lambda_

    from infra.app import SNAPSTART_PUBLISH_WARNING, AcknowledgePublishedSnapStart

    app = aws_cdk.App(outdir=str(tmp_path))
    stack = aws_cdk.Stack(app, "Bare")
    for name, publish in (("Published", True), ("Unpublished", False)):
        function = lambda_.Function(
            stack,
            name,
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
        )
        if publish:
            function.add_alias("live")
    aws_cdk.Aspects.of(stack).add(AcknowledgePublishedSnapStart())
    warned = [w for w in _warnings(app.synth(), "Bare") if SNAPSTART_PUBLISH_WARNING in w]
    assert len(warned) == 1
