"""Lambda code without Docker: the product packages plus the locked runtime dependencies.

Bundling runs on the developer's machine with pip (``--platform manylinux_2_34_aarch64
--only-binary=:all:`` picks wheels for Lambda's ARM64 Python); no Docker engine is needed. Tests
synthesise with bundling switched off (``aws:cdk:bundling-stacks`` = ``[]``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.constants import LAMBDA_RUNTIME_REQUIREMENTS, LAMBDA_SOURCE_PACKAGES, PROJECT_ROOT

PYTHON_VERSION = "3.14"


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:  # noqa: ARG002
        subprocess.run(  # noqa: S603 - fixed argument list
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "-r",
                str(LAMBDA_RUNTIME_REQUIREMENTS),
                "--target",
                output_dir,
                # Lambda's Python 3.14 runs on Amazon Linux 2023 (glibc 2.34), ARM64.
                "--platform",
                "manylinux2014_aarch64",
                "--platform",
                "manylinux_2_28_aarch64",
                "--platform",
                "manylinux_2_34_aarch64",
                "--implementation",
                "cp",
                "--python-version",
                PYTHON_VERSION,
                "--only-binary=:all:",
            ],
            check=True,
        )
        for package in LAMBDA_SOURCE_PACKAGES:
            shutil.copytree(
                PROJECT_ROOT / package,
                Path(output_dir) / package,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        shutil.copytree(PROJECT_ROOT / "state-machines", Path(output_dir) / "state-machines")
        return True


def lambda_code() -> lambda_.Code:
    """One asset for every Python function (API and tasks): built once, shared by all."""
    return lambda_.Code.from_asset(
        str(PROJECT_ROOT),
        exclude=[
            "**",
            *(f"!{p}/**" for p in LAMBDA_SOURCE_PACKAGES),
            "!state-machines/**",
            "!requirements.lock",
        ],
        bundling=BundlingOptions(
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
            local=PipLocalBundling(),
            command=["bash", "-c", "echo local bundling only && exit 1"],
        ),
    )
