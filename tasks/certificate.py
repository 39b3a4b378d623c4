"""Task handlers of certificate issuance (``state-machines/certificate.asl.json``).

Thin: parse the input, call :mod:`lms.certificates`, return a small result.

Cold start: importing this module loads only Powertools, :mod:`tasks.runtime` and
:mod:`lms.snapstart`; each handler imports the domain inside its body, and :func:`lms.snapstart.preload`
loads it before a SnapStart snapshot (see :mod:`tasks.purchase`). The PDF library is in
RenderCertificate's package only, so it is loaded before the snapshot only where it is packaged.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import before_snapshot, preload
from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-certificate")
preload(
    "lms.certificates",
    "lms.events",
    "lms.blobs",
    "lms.settings",
    "lms.table",
    "workflows.certificate",
)


def _packaged(distribution_module: str) -> bool:
    try:
        return importlib.util.find_spec(distribution_module) is not None
    except ImportError:  # an import hook may refuse the name rather than answer None
        return False


def _preload_where_packaged() -> None:
    """The PDF renderer (RenderCertificate) and the credential signer (RecordCertificate) are each
    packaged with one function only; each is loaded before the snapshot where it is packaged."""
    if _packaged("reportlab"):
        importlib.import_module("lms.certificate_pdf")
    if _packaged("joserfc"):
        importlib.import_module("lms.credentials.issuing")


before_snapshot(_preload_where_packaged)


@task_handler(logger)
def verify_completion(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import certificates
    from lms.table import Table
    from workflows.certificate import VerifyInput

    request = VerifyInput.model_validate(event)
    found = certificates.verify_completion(
        Table(),
        user_id=request.user_id,
        course_id=request.course_id,
        execution_name=request.execution_name,
        execution_arn=request.execution_arn,
    )
    logger.info("completion verified", extra={"outcome": found.outcome})
    return {
        "eligible": found.eligible,
        "outcome": found.outcome,
        "reason": found.reason,
        "certificate": found.certificate.model_dump(mode="json", by_alias=True)
        if found.certificate
        else None,
    }


def credential_url(verify_url_base: str, certificate_id: str) -> str:
    """Where the holder fetches the certificate's verifiable credential (printed with its QR code)."""
    public_url = verify_url_base.removesuffix("/certificates/verify/").rstrip("/")
    return f"{public_url}/certificates/{certificate_id}/credential"


@task_handler(logger)
def render_certificate(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import certificate_pdf  # only this function's package carries the PDF library
    from lms.blobs import S3BlobStore
    from lms.settings import get_settings
    from workflows.certificate import RenderInput

    request = RenderInput.model_validate(event)
    certificate = request.certificate
    started = time.perf_counter()
    pdf = certificate_pdf.render(
        certificate_pdf.CertificateDocument(
            holder_name=certificate.holder_name,
            course_title=certificate.course_title,
            instructor_name=certificate.instructor_name,
            issued_at=certificate.issued_at,
            certificate_id=certificate.certificate_id,
            verification_code=certificate.verification_code,
            verify_url=request.verify_url_base + certificate.verification_code,
            credential_url=credential_url(request.verify_url_base, certificate.certificate_id),
        )
    )
    metrics.add_metric(
        name="CertificateRenderMilliseconds",
        unit=MetricUnit.Milliseconds,
        value=(time.perf_counter() - started) * 1000,
    )
    S3BlobStore(get_settings().bucket_name).put(certificate.pdf_key, pdf, certificate_pdf.CONTENT_TYPE)
    logger.info("certificate stored", extra={"pdf_key": certificate.pdf_key, "pdf_bytes": len(pdf)})
    return {"pdfKey": certificate.pdf_key, "pdfBytes": len(pdf)}


@task_handler(logger)
def record_certificate(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import certificates
    from lms.credentials import issuing
    from lms.events import Actor, CertificateIssued
    from lms.table import Table
    from workflows.certificate import CERTIFICATE_WORKFLOW, RecordInput

    request = RecordInput.model_validate(event)
    table = Table()
    # The verifiable credential is signed here, before the record (the key is cached while warm).
    started = time.perf_counter()
    credential = issuing.issue(
        table, request.certificate, issuing.public_url_from_verify_base(request.verify_url_base)
    )
    metrics.add_metric(
        name="CredentialIssueMilliseconds",
        unit=MetricUnit.Milliseconds,
        value=(time.perf_counter() - started) * 1000,
    )
    outcome = certificates.record_certificate(
        table, request.certificate, pdf_bytes=request.pdf_bytes, credential=credential
    )
    if outcome == certificates.Outcome.ISSUED:
        metrics.add_metric(name="CertificatesIssued", unit=MetricUnit.Count, value=1)
    logger.info("certificate recorded", extra={"outcome": outcome})
    certificate = request.certificate
    result: dict[str, Any] = {
        "outcome": outcome,
        "reason": certificates.describe_outcome(outcome),
        "certificateId": certificate.certificate_id,
        "event": None,  # the CertificateIssued detail, once issued
    }
    if outcome == certificates.Outcome.ISSUED:
        # Notify publishes this detail; a retried record announces the same event (the same id).
        result["event"] = CertificateIssued(
            event_id=CertificateIssued.id_for(certificate.certificate_id),
            actor=Actor.system(CERTIFICATE_WORKFLOW),
            certificate_id=certificate.certificate_id,
            user_id=certificate.user_id,
            course_id=certificate.course_id,
        ).detail()
    return result
