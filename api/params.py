"""Path and query parameters shared by every router: one definition each."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

PathId = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100, description="page size (the server may cap it)")]
Cursor = Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")]
