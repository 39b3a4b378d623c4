"""Certificate issuance and revocation: definitions, task functions and their inputs, start helper."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms import keys
from lms.entities import Certificate
from lms.events import EnrollmentRevoked
from lms.table import serialize_key
from workflows import executions, records
from workflows.definition import (
    Access,
    BucketAccess,
    BusinessRecord,
    EventTrigger,
    Needs,
    TaskFunction,
    Workflow,
    Zip,
    settled_when,
)
from workflows.executions import StartedExecution

# ReportLab (with its Pillow dependency) goes into this one function's package, nowhere else.
RENDERING_PACKAGE = Zip(dependencies=(*Zip().dependencies, "reportlab"))
# joserfc (with cryptography) goes to the two functions that sign credentials (issue 20).
SIGNING_PACKAGE = Zip(dependencies=(*Zip().dependencies, "joserfc"))

CERTIFICATE_WORKFLOW = "certificate"
CERTIFICATE = Workflow(
    name=CERTIFICATE_WORKFLOW,  # execution certificate-<userId>-<courseId>
    functions=(
        TaskFunction("VerifyCompletion", Needs(table=Access.READ_WRITE), timeout_seconds=15),
        TaskFunction(
            "RenderCertificate",
            Needs(bucket=BucketAccess(Access.WRITE, keys.CERTIFICATE_PDF_PREFIX)),
            memory_mb=1024,  # more CPU for the render (Lambda gives CPU in proportion to memory)
            timeout_seconds=30,
            packaging=RENDERING_PACKAGE,
        ),
        # Signs the verifiable credential (issue 20) before recording: reads the signing key secret.
        TaskFunction(
            "RecordCertificate",
            Needs(table=Access.READ_WRITE, credential_signing_key=True),
            timeout_seconds=15,
            packaging=SIGNING_PACKAGE,
        ),
    ),
    timeout_seconds=3600,
    error_alarms=("CertificateIssuanceFailed",),
    record=BusinessRecord(
        "enrollment and certificate",
        records.issuance,
        links=(
            "enrollment.certificateExecutionName",
            "enrollment.certificateExecutionArn",
            "certificate.revokedByExecutionName",
            "certificate.revokedByExecutionArn",
        ),
        settled=(
            settled_when("certificate.status", "VALID", "REVOKED"),
            settled_when("enrollment.status", "REVOKED"),
        ),
    ),
)

CERTIFICATE_REVOCATION = Workflow(
    name="certificate-revocation",  # execution revoke-certificate-<transactionId>
    trigger=EventTrigger(
        event=EnrollmentRevoked,
        business_key=("detail.transactionId",),
    ),
    # Sets the credential's status bit and re-signs its status list: reads the signing key secret.
    functions=(
        TaskFunction(
            "RevokeCertificate",
            Needs(table=Access.READ_WRITE, credential_signing_key=True),
            timeout_seconds=15,
            packaging=SIGNING_PACKAGE,
        ),
    ),
    timeout_seconds=600,
    error_alarms=("CertificateRevocationFailed",),
    execution_prefix="revoke-certificate",
    record=BusinessRecord(
        "transaction and certificate",
        records.revocation,
        links=(
            "transaction.executionName",
            "certificate.revokedByExecutionName",
            "certificate.revokedByExecutionArn",
            "certificate.executionName",
            "certificate.executionArn",
        ),
        settled=(settled_when("certificate.status", "REVOKED"),),
    ),
)


# The inputs of their task functions (the ASL's Parameters), parsed by tasks.certificate and
# tasks.certificate_revocation.
class TaskInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    execution_name: str = ""


class VerifyInput(TaskInput):
    user_id: str
    course_id: str
    execution_arn: str


class RenderInput(TaskInput):
    certificate: Certificate
    verify_url_base: str


class RecordInput(TaskInput):
    certificate: Certificate
    pdf_bytes: int
    verify_url_base: str  # the API's public URL is the credential issuer's did:web


class RevokeInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    user_id: str
    course_id: str
    transaction_id: str
    reason: str = "The purchase was refunded."
    execution_name: str = ""
    execution_arn: str = ""


class CertificateInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    user_id: str
    course_id: str
    # What RecordIssuanceFailed (a direct updateItem) writes to, formatted by lms.keys, not the ASL.
    enrollment_key: dict[str, Any]
    verify_url_base: str  # printed (and in the QR code) as <base><code>


def start_issuance_run(*, user_id: str, course_id: str, verify_url_base: str) -> str:
    """:class:`lms.learning.CertificateStarter`: start (or find) the run, answer its name."""
    return start_issuance(user_id=user_id, course_id=course_id, verify_url_base=verify_url_base).name


def start_issuance(*, user_id: str, course_id: str, verify_url_base: str) -> StartedExecution:
    """Start ``certificate-<userId>-<courseId>``; a second start finds the first run (issued once)."""
    payload = CertificateInput(
        user_id=user_id,
        course_id=course_id,
        enrollment_key=serialize_key(keys.enrollment(user_id, course_id)),
        verify_url_base=verify_url_base,
    )
    return executions.start(CERTIFICATE, f"{user_id}-{course_id}", payload.model_dump(by_alias=True))
