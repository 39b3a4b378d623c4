"""Credentials (docs/api.md, "Credentials"): a certificate's verifiable credential, the status lists
verifiers read, and the issuer's DID document. The guide for holders and verifiers is
docs/credentials.md; the signing and the status lists are in :mod:`lms.credentials`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api import security
from api.params import PathId
from api.routes.learning import public_url
from lms import keys
from lms.credentials import did
from lms.credentials.keys import published_keys
from lms.entities import Role
from lms.errors import NotFoundError
from lms.table import Table

router = APIGatewayRouter()

VC_JWT = "application/vc+jwt"  # what lms.credentials.jose signs (joserfc itself is not in the API's package)

# Verifiers may cache a status list and the DID document this long: a revocation (or a new key)
# reaches them within five minutes, and a busy verifier does not fetch them per credential.
VERIFIER_CACHE = "public, max-age=300"


@router.get(
    "/certificates/<certificateId>/credential",
    tags=["credentials"],
    summary="The certificate as an Open Badges 3.0 credential: a VC-JWT (application/vc+jwt) (holder, admin)",
)
@security.signed_in
def get_credential(certificateId: PathId) -> Response[str]:  # noqa: N803
    table = Table()
    caller = security.authenticated(router, table, [keys.certificate(certificateId)])
    item = caller.extras.get(keys.certificate(certificateId))
    principal = caller.principal
    if item is not None and item.get("userId") != principal.user_id and principal.role != Role.ADMIN:
        item = None  # someone else's certificate: answered like a missing one, so ids cannot be probed
    if item is None or not item.get("credential"):
        raise NotFoundError(f"No verifiable credential for certificate {certificateId}.")
    return Response(
        status_code=200,
        content_type=VC_JWT,
        body=str(item["credential"]),
        headers={"Cache-Control": "private, no-store"},
    )


@router.get(
    "/credentials/status/<listId>",
    tags=["credentials"],
    summary="A Bitstring Status List credential (application/vc+jwt): which credentials are revoked",
)
@security.public
def get_status_list(listId: PathId) -> Response[str]:  # noqa: N803
    item = Table().get(keys.status_list(listId))
    if item is None or not item.get("statusCredential"):
        raise NotFoundError(f"No status list {listId}.")
    return Response(
        status_code=200,
        content_type=VC_JWT,
        body=str(item["statusCredential"]),
        headers={"Cache-Control": VERIFIER_CACHE},
    )


@router.get(
    "/.well-known/did.json",
    tags=["credentials"],
    summary="The issuer's DID document (did:web): every public key credentials were signed with",
)
@security.public
def did_document() -> Response[dict[str, Any]]:
    return _did_document()


@router.get(
    "/did.json",
    tags=["credentials"],
    summary="The issuer's DID document where did:web resolves a public URL with a path (an API stage)",
)
@security.public
def did_document_under_path() -> Response[dict[str, Any]]:
    return _did_document()


def _did_document() -> Response[dict[str, Any]]:
    issuer = did.did_web(public_url(router))
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=did.document(issuer, published_keys(Table())),
        headers={"Cache-Control": VERIFIER_CACHE},
    )
