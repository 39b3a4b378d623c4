"""Task handler of certificate revocation (``state-machines/certificate-revocation.asl.json``).

Cold start: importing this module loads only Powertools, :mod:`tasks.runtime` and
:mod:`lms.snapstart`; the handler imports the domain inside its body, and
:func:`lms.snapstart.preload` loads it before a SnapStart snapshot (see :mod:`tasks.purchase`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-certificate-revocation")
preload("lms.certificates", "lms.credentials.issuing", "lms.events", "lms.table", "workflows.certificate")


@task_handler(logger)
def revoke_certificate(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import certificates
    from lms.credentials import issuing
    from lms.events import Actor, CertificateRevoked
    from lms.table import Table
    from workflows.certificate import CERTIFICATE_REVOCATION, RevokeInput

    request = RevokeInput.model_validate(event)
    table = Table()
    outcome, certificate_id = certificates.revoke_certificate(
        table,
        user_id=request.user_id,
        course_id=request.course_id,
        reason=f"Revoked: transaction {request.transaction_id} was refunded ({request.reason}).",
        execution_name=request.execution_name,
        execution_arn=request.execution_arn,
    )
    if outcome == certificates.RevocationOutcome.REVOKED:
        metrics.add_metric(name="CertificatesRevoked", unit=MetricUnit.Count, value=1)
    if certificate_id and outcome in (
        certificates.RevocationOutcome.REVOKED,
        certificates.RevocationOutcome.ALREADY_REVOKED,  # a retry after the record but before the bit
    ):
        # The credential's bit in its status list: set once, the list credential republished.
        bit_set = issuing.revoke(table, certificate_id)
        logger.info("credential status", extra={"bit_set_now": bit_set, "certificate_id": certificate_id})
    logger.info("revocation done", extra={"outcome": outcome, "certificate_id": certificate_id})
    announcement: dict[str, Any] | None = None
    if certificate_id and outcome in (
        certificates.RevocationOutcome.REVOKED,
        certificates.RevocationOutcome.ALREADY_REVOKED,  # e.g. a retry after the write succeeded
    ):
        # AnnounceRevocation publishes this detail; its id is the certificate's revocation, so an
        # announcement repeated by a retry is one event to consumers.
        announcement = CertificateRevoked(
            event_id=CertificateRevoked.id_for(certificate_id),
            actor=Actor.system(CERTIFICATE_REVOCATION.name),
            certificate_id=certificate_id,
            user_id=request.user_id,
            course_id=request.course_id,
            transaction_id=request.transaction_id,
        ).detail()
    return {"outcome": outcome, "certificateId": certificate_id, "event": announcement}
