"""Names and limits shared by the CDK constructs (one place, so constructs only compose)."""

from __future__ import annotations

from pathlib import Path

from workflows.definition import Zip

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_RUNTIME_REQUIREMENTS = PROJECT_ROOT / "requirements.lock"
LAMBDA_MEMORY_MB = 512
LAMBDA_TIMEOUT_SECONDS = 29  # API Gateway's integration timeout
LOG_RETENTION_DAYS = 30
SERVICE_NAME = "lms"
# The API's package: every runtime dependency, no task code.
API_PACKAGE = Zip(
    dependencies=(
        "boto3",
        "pydantic",
        "aws-lambda-powertools",
        "pyjwt",
        "argon2-cffi",
        "stripe",
        "jinja2",
        # forum posts are rendered and sanitised when written (lms/discussions/markdown.py)
        "markdown-it-py",
        "nh3",
    ),
    source_packages=("lms", "api", "workflows"),
)


def pascal(name: str) -> str:
    """``throwaway-greet`` -> ``ThrowawayGreet``: construct ids from catalog names."""
    return "".join(part.capitalize() for part in name.split("-"))
