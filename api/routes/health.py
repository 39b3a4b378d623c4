"""GET /health: liveness and the workflow versions deployed."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api import security
from api.app import API_VERSION
from api.models import View
from workflows.catalog import WORKFLOWS

router = APIGatewayRouter()


class Health(View):
    status: str
    version: str
    workflows: dict[str, str]


@router.get("/health", tags=["operations"], summary="Liveness and the workflow versions deployed")
@security.public
def health() -> Health:
    return Health(status="ok", version=API_VERSION, workflows={w.name: w.version for w in WORKFLOWS})
