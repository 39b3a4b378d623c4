"""Task handlers of the purchase-to-enrollment workflow.

Errors raised here reach Step Functions by class name (``OrderNotValidError``,
``AlreadyEnrolledError``), which is what the ASL's ``Catch`` clauses match.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms import purchases
from lms.table import Table

logger = Logger(service="lms-purchase")


class ValidateOrderInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    user_id: str
    course_id: str


@logger.inject_lambda_context(correlation_id_path="executionName")
def validate_order(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ValidateOrderInput.model_validate(event)
    order = purchases.validate_order(Table(), user_id=request.user_id, course_id=request.course_id)
    return order.model_dump(mode="json", by_alias=True)
