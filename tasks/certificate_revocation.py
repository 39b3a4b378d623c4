"""Task handler of certificate revocation (``state-machines/certificate-revocation.asl.json``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms import certificates
from lms.table import Table
from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-certificate-revocation")


class RevokeInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    user_id: str
    course_id: str
    transaction_id: str
    reason: str = "The purchase was refunded."
    execution_name: str = ""
    execution_arn: str = ""


@task_handler(logger)
def revoke_certificate(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RevokeInput.model_validate(event)
    outcome, certificate_id = certificates.revoke_certificate(
        Table(),
        user_id=request.user_id,
        course_id=request.course_id,
        reason=f"Revoked: transaction {request.transaction_id} was refunded ({request.reason}).",
        execution_name=request.execution_name,
        execution_arn=request.execution_arn,
    )
    if outcome == certificates.RevocationOutcome.REVOKED:
        metrics.add_metric(name="CertificatesRevoked", unit=MetricUnit.Count, value=1)
    logger.info("revocation done", extra={"outcome": outcome, "certificate_id": certificate_id})
    return {"outcome": outcome, "certificateId": certificate_id}
