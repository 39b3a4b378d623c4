"""The issuer's ``did:web`` (W3C did:web method) and its DID document.

The DID names the API's public URL: ``https://lms.example.com`` is ``did:web:lms.example.com``,
resolved at ``https://lms.example.com/.well-known/did.json``; a URL with a path (an API Gateway
stage, ``https://h/prod``) is ``did:web:h:prod``, resolved at ``https://h/prod/did.json``. A port is
percent-encoded (``did:web:127.0.0.1%3A3180``). The API serves both paths.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")  # resolved over http (`lms dev`), all else https


def did_web(public_url: str) -> str:
    parts = urlsplit(public_url.rstrip("/"))
    if not parts.netloc:
        raise ValueError(f"not an absolute URL: {public_url!r}")
    segments = [quote(parts.netloc, safe="")]
    segments += [quote(segment, safe="") for segment in parts.path.split("/") if segment]
    return "did:web:" + ":".join(segments)


def document_url(did: str) -> str:
    """Where ``did`` resolves: https, or http for a local host (``lms dev``)."""
    if not did.startswith("did:web:"):
        raise ValueError(f"not a did:web: {did!r}")
    host, *path = did.removeprefix("did:web:").split(":")
    netloc = unquote(host)
    hostname = netloc.rpartition("]")[0] + "]" if netloc.startswith("[") else netloc.split(":")[0]
    scheme = "http" if hostname in LOCAL_HOSTS else "https"  # did:web is https; `lms dev` is local http
    suffix = "/".join(unquote(segment) for segment in path)
    return f"{scheme}://{netloc}/{suffix}/did.json" if suffix else f"{scheme}://{netloc}/.well-known/did.json"


def verification_method_id(did: str, kid: str) -> str:
    return f"{did}#{kid}"


def document(did: str, public_keys: list[dict[str, Any]]) -> dict[str, Any]:
    """The DID document: every published key (``kid``, ``publicKeyJwk``) as a JsonWebKey2020
    verification method, all of them assertion methods (old ones keep old credentials verifying)."""
    methods = [
        {
            "id": verification_method_id(did, key["kid"]),
            "type": "JsonWebKey2020",
            "controller": did,
            "publicKeyJwk": key["publicKeyJwk"],
        }
        for key in public_keys
    ]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def public_key(did_document: dict[str, Any], method_id: str) -> dict[str, Any]:
    """The JWK of the assertion method ``method_id`` (a full DID URL or a ``#fragment``)."""
    did = str(did_document.get("id", ""))
    wanted = method_id if method_id.startswith("did:") else f"{did}#{method_id.lstrip('#')}"
    allowed = {
        m if m.startswith("did:") else f"{did}#{m.lstrip('#')}"
        for m in did_document.get("assertionMethod", [])
        if isinstance(m, str)
    }
    for method in did_document.get("verificationMethod", []):
        found = str(method.get("id", ""))
        found = found if found.startswith("did:") else f"{did}#{found.lstrip('#')}"
        if found == wanted and found in allowed:
            return dict(method["publicKeyJwk"])
    raise LookupError(f"the DID document has no assertion key {method_id}")
