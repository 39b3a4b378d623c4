"""Operations (docs/api.md, "Operations"): executions of every deployed workflow, for admins."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict

from api import security
from api.params import Cursor, Limit
from api.responses import accepted, page_limit
from lms.entities import CAMEL_CASE, Role
from lms.errors import ValidationError
from workflows import operations as ops

router = APIGatewayRouter()

ExecutionName = Annotated[str, Path(max_length=ops.MAX_EXECUTION_NAME, pattern=r"^[A-Za-z0-9_-]+$")]
# Offsets beyond this are not a page anyone reads; they only make the server list more.
MAX_OFFSET = 10_000


class ExecutionPage(BaseModel):
    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=True, serialize_by_alias=True)

    items: list[ops.ExecutionSummary]
    next_cursor: str | None
    # With businessKey: the business record of the newest execution found (None if it has none).
    record: ops.BusinessRecordView | None = None


class RedriveRequest(BaseModel):
    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=False, extra="forbid")

    rerun: bool = False  # where the engine cannot redrive (locally), re-run with the original input


def operations() -> ops.Operations:
    return ops.Operations(ops.deployed_state_machines())


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("o:"))
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise ValidationError("The cursor is not one this API returned.") from error
    if not 0 < offset <= MAX_OFFSET:
        raise ValidationError("The cursor is not one this API returned.")
    return offset


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


@router.get(
    "/ops/executions",
    tags=["operations"],
    summary="Executions of every workflow, newest first (admin); businessKey searches all workflows",
)
@security.allow(Role.ADMIN)
def list_executions(
    workflow: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z][a-z0-9-]*$")] = None,
    status: Annotated[ops.ExecutionStatus | None, Query()] = None,
    businessKey: Annotated[str | None, Query(min_length=1, max_length=128)] = None,  # noqa: N803
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ExecutionPage:
    return execution_page(
        workflow=workflow, status=status, business_key=businessKey, limit=limit, cursor=cursor
    )


def execution_page(
    *,
    workflow: str | None,
    status: ops.ExecutionStatus | None,
    business_key: str | None,
    limit: int,
    cursor: str | None,
) -> ExecutionPage:
    """One page of executions (and, for a key search, the record found): the route's and the console's."""
    size, offset = page_limit(limit), _offset(cursor)
    source = operations()
    found = source.list_executions(
        workflow=workflow, status=status, business_key=business_key, limit=offset + size + 1
    )
    page = found[offset : offset + size]
    more = len(found) > offset + size and offset + size <= MAX_OFFSET
    record = source.record(found[0].workflow, found[0].business_key) if business_key and found else None
    return ExecutionPage(items=page, next_cursor=_cursor(offset + size) if more else None, record=record)


@router.get(
    "/ops/executions/<executionName>",
    tags=["operations"],
    summary="One execution: status, input/output (secrets redacted), timeline, failure, history (admin)",
)
@security.allow(Role.ADMIN)
def get_execution(executionName: ExecutionName) -> ops.ExecutionDetail:  # noqa: N803
    return operations().describe(executionName)


@router.post(
    "/ops/executions/<executionName>/redrive",
    tags=["operations"],
    summary=(
        "Resume a failed execution from its failed state (AWS), or re-run it with its input (admin); "
        "409 with the reason once its business record needs no re-run or another run of it is in flight"
    ),
)
@security.allow(Role.ADMIN)
def redrive_execution(
    executionName: ExecutionName,  # noqa: N803
    body: RedriveRequest | None = None,
) -> Response[ops.RedriveResult]:
    rerun = (body or RedriveRequest()).rerun
    return accepted(operations().redrive(executionName, rerun_if_unsupported=rerun))
