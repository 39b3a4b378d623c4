"""Checking a credential as an outside verifier does: nothing read from our table, only what the
credential names (its issuer's DID document, its status list), fetched over HTTP.

Checks, in order: the JWT's header (``alg`` EdDSA, a ``kid`` under the issuer's DID), the issuer's
key from the DID document (``did:web`` resolution), the signature, the validity dates, and each
``credentialStatus`` entry's bit in its status list credential (itself signature- and
issuer-checked). ``lms credentials verify`` prints the result; docs/credentials.md explains it.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lms.credentials import did as dids
from lms.credentials import jose, status_list

Fetch = Callable[[str], bytes]
TIMEOUT_SECONDS = 10


def http_fetch(url: str, headers: dict[str, str] | None = None) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, headers={"Accept": "application/vc+jwt, application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked
        return bytes(response.read())


@dataclass
class Verification:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    @property
    def revoked(self) -> bool:
        return any(name == "status" and not ok for name, ok, _ in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append((name, ok, detail))
        return ok


def _issuer_id(payload: dict[str, Any]) -> str:
    issuer = payload.get("issuer")
    return str(issuer.get("id", "")) if isinstance(issuer, dict) else str(issuer or "")


def _parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def check_signature(token: str, fetch: Fetch, result: Verification, *, label: str) -> dict[str, Any] | None:
    """The verified payload, or None (with the failed check recorded)."""
    try:
        header = jose.unverified_header(token)
        claimed = json.loads(_b64(token.split(".")[1]))
    except Exception as error:  # anything malformed is a failed check, never a crash
        result.add(label, False, f"not a compact JWS: {error}")
        return None
    if header.get("alg") != jose.ALGORITHM:
        result.add(label, False, f"alg {header.get('alg')!r} is not EdDSA")
        return None
    issuer = _issuer_id(claimed)
    kid = str(header.get("kid", ""))
    if not issuer.startswith("did:web:") or not kid.startswith(issuer + "#"):
        result.add(label, False, f"kid {kid!r} is not a key of the issuer {issuer!r}")
        return None
    try:
        document = json.loads(fetch(dids.document_url(issuer)))
        if document.get("id") != issuer:
            raise LookupError(f"the DID document is for {document.get('id')!r}")
        public_key = dids.public_key(document, kid)
    except Exception as error:
        result.add(label, False, f"issuer key not found: {error}")
        return None
    try:
        payload = jose.verify(token, public_key)
    except ValueError as error:
        result.add(label, False, str(error))
        return None
    result.add(label, True, f"signed by {kid}")
    return payload


def _b64(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def check_dates(payload: dict[str, Any], now: datetime, result: Verification) -> None:
    try:
        valid_from = _parse_time(payload["validFrom"]) if "validFrom" in payload else None
        valid_until = _parse_time(payload["validUntil"]) if "validUntil" in payload else None
    except ValueError as error:
        result.add("dates", False, f"unreadable date: {error}")
        return
    if valid_from and valid_from > now:
        result.add("dates", False, f"not valid before {valid_from.isoformat()}")
    elif valid_until and valid_until <= now:
        result.add("dates", False, f"expired at {valid_until.isoformat()}")
    elif "exp" in payload and int(payload["exp"]) <= now.timestamp():
        result.add("dates", False, "the JWT has expired")
    else:
        result.add("dates", True, f"valid from {valid_from.isoformat() if valid_from else '-'}")


def check_status(payload: dict[str, Any], fetch: Fetch, result: Verification) -> None:
    entries = payload.get("credentialStatus") or []
    entries = entries if isinstance(entries, list) else [entries]
    for entry in entries:
        if entry.get("type") != "BitstringStatusListEntry":
            continue
        url, index = str(entry["statusListCredential"]), int(entry["statusListIndex"])
        inner = Verification()
        try:
            token = fetch(url).decode().strip()
        except Exception as error:
            result.add("status", False, f"status list unreachable: {error}")
            continue
        listed = check_signature(token, fetch, inner, label="status list signature")
        result.checks.extend(inner.checks)
        if listed is None:
            continue
        if _issuer_id(listed) != _issuer_id(payload):
            result.add("status list signature", False, "the status list has another issuer")
            continue
        subject = listed.get("credentialSubject", {})
        bits = status_list.decode(str(subject.get("encodedList", "")))
        if len(bits) * 8 < status_list.LIST_BITS:
            result.add("status", False, f"the status list is shorter than {status_list.LIST_BITS} bits")
            continue
        purpose = str(entry.get("statusPurpose", subject.get("statusPurpose")))
        if status_list.is_set(bits, index):
            meaning = {"revocation": "revoked", "suspension": "suspended"}.get(purpose, purpose)
            result.add("status", False, f"{purpose}: bit {index} is set (the credential is {meaning})")
        else:
            result.add("status", True, f"{purpose}: bit {index} is not set")


def verify(token: str, fetch: Fetch = http_fetch, now: datetime | None = None) -> Verification:
    result = Verification()
    payload = check_signature(token.strip(), fetch, result, label="signature")
    if payload is None:
        return result
    result.payload = payload
    types = payload.get("type", [])
    result.add("type", "VerifiableCredential" in types, f"type {types}")
    check_dates(payload, now or datetime.now(UTC), result)
    check_status(payload, fetch, result)
    return result
