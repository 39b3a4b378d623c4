"""Lambda packages without Docker: per function, its source packages plus only its locked distributions.

A zip function declares its dependency group (``workflows.definition.Zip``); :func:`locked_closure`
turns that group into the pinned distributions it pulls in, read from ``requirements.lock`` (uv's
``# via`` comments name each distribution's dependants). Bundling runs on the developer's machine
with pip (``--platform manylinux_2_34_aarch64 --only-binary=:all:`` picks wheels for Lambda's ARM64
Python); no Docker engine is needed. Tests synthesise with bundling switched off
(``aws:cdk:bundling-stacks`` = ``[]``).

A container-image function is staged by CDK at synth as a directory asset (no Docker either); the
image is built and pushed to ECR by ``cdk deploy``.
"""

from __future__ import annotations

import functools
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, IgnoreMode, ILocalBundling
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_lambda as lambda_

from infra.constants import LAMBDA_RUNTIME_REQUIREMENTS, PROJECT_ROOT
from workflows.definition import ContainerImage, Packaging, Zip

PYTHON_VERSION = "3.14"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


@functools.cache
def _locked() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """(distribution -> pinned requirement line, distribution -> distributions that require it)."""
    pins: dict[str, str] = {}
    via: dict[str, set[str]] = {}
    current = ""
    for line in LAMBDA_RUNTIME_REQUIREMENTS.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            current = _normalise(line.split("==")[0])
            pins[current] = line.strip()
            via[current] = set()
        elif current and line.strip().startswith("#"):
            dependant = line.strip().lstrip("#").strip().removeprefix("via").strip()
            if dependant and "(pyproject.toml)" not in dependant:
                via[current].add(_normalise(dependant))
    return pins, {name: frozenset(parents) for name, parents in via.items()}


def locked_distributions() -> set[str]:
    """Every distribution the lock file pins (normalised names)."""
    return set(_locked()[0])


def locked_closure(dependencies: tuple[str, ...]) -> list[str]:
    """The pinned requirement lines of ``dependencies`` and everything they depend on."""
    pins, via = _locked()
    needed = {_normalise(name) for name in dependencies}
    unknown = needed - set(pins)
    if unknown:
        raise ValueError(f"not in {LAMBDA_RUNTIME_REQUIREMENTS.name}: {', '.join(sorted(unknown))}")
    grown = True
    while grown:
        grown = False
        for name, parents in via.items():
            if name not in needed and parents & needed:
                needed.add(name)
                grown = True
    return sorted(pins[name] for name in needed)


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    def __init__(self, requirements: list[str], source_packages: tuple[str, ...]) -> None:
        self._requirements = requirements
        self._source_packages = source_packages

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:  # noqa: ARG002
        requirements = Path(output_dir) / ".requirements.txt"
        requirements.write_text("\n".join(self._requirements) + "\n")
        subprocess.run(  # noqa: S603 - fixed argument list
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "-r",
                str(requirements),
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
        requirements.unlink()
        for package in self._source_packages:
            shutil.copytree(
                PROJECT_ROOT / package,
                Path(output_dir) / package,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        shutil.copytree(PROJECT_ROOT / "state-machines", Path(output_dir) / "state-machines")
        return True


def zip_code(packaging: Zip) -> lambda_.Code:
    """The asset of one zip package: its source packages and the closure of its dependency group."""
    requirements = locked_closure(packaging.dependencies)
    return lambda_.Code.from_asset(
        str(PROJECT_ROOT),
        exclude=["**", *(f"!{p}/**" for p in packaging.source_packages), "!state-machines/**"],
        # CDK's source hash ignores what the local bundler puts in, so two packages of the same
        # tree would share one asset: the hash is the package's own content instead.
        asset_hash=package_hash(packaging, requirements),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
            local=PipLocalBundling(requirements, packaging.source_packages),
            command=["bash", "-c", "echo local bundling only && exit 1"],
        ),
    )


def package_hash(packaging: Zip, requirements: list[str]) -> str:
    """What goes into a zip package: its pinned requirements and the files of its source packages."""
    digest = hashlib.sha256("\n".join([*requirements, *packaging.source_packages]).encode())
    for folder in (*packaging.source_packages, "state-machines"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def image_code(packaging: ContainerImage, handler: str) -> lambda_.DockerImageCode:
    """The image of a Dockerfile in the repository; its command is the catalog's handler."""
    folder = str(PurePosixPath(packaging.dockerfile).parent)
    return lambda_.DockerImageCode.from_image_asset(
        str(PROJECT_ROOT),
        file=packaging.dockerfile,
        cmd=[handler],
        platform=ecr_assets.Platform.LINUX_ARM64,
        ignore_mode=IgnoreMode.DOCKER,
        exclude=[
            "**",
            *(f"!{p}/**" for p in packaging.source_packages),
            "!requirements.lock",
            f"!{folder}/**",
            "**/__pycache__",
        ],
    )


class Packages:
    """One asset per distinct packaging in a stack, shared by the functions that declare it."""

    def __init__(self) -> None:
        self._zips: dict[Zip, lambda_.Code] = {}

    def code(self, packaging: Packaging, handler: str) -> lambda_.Code | lambda_.DockerImageCode:
        if isinstance(packaging, ContainerImage):
            return image_code(packaging, handler)
        if packaging not in self._zips:
            self._zips[packaging] = zip_code(packaging)
        return self._zips[packaging]

    @property
    def zips(self) -> set[Zip]:
        """The zip packages built so far."""
        return set(self._zips)
