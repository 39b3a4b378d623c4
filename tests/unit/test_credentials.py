"""Verifiable credentials (lms/credentials): the VC-JWT checked by a second, independent
implementation (raw Ed25519 through ``cryptography`` against the key the DID document publishes, not
joserfc), the W3C Bitstring Status List encoding decoded per the spec, key rotation, and the checks
of ``lms credentials verify`` (lms/credentials/verifier.py) with the issuer's documents served by a
fake fetch (unit tests have no network)."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lms.credentials import badge, did, identity, status_list, verifier
from lms.credentials import keys as credential_keys
from lms.credentials.status_list import Issuer, StatusEntry

PUBLIC_URL = "http://127.0.0.1:3180"
ISSUED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class IssuerSite:
    """What the API publishes for one issuer: its DID document and its status lists, by URL."""

    def __init__(self) -> None:
        self.issuer = badge.issuer_for(PUBLIC_URL)
        self.keys = [credential_keys.generate()]
        self.lists: dict[str, set[int]] = {}
        self.fetched: list[str] = []

    @property
    def signing_key(self) -> credential_keys.SigningKey:
        return self.keys[-1]

    def rotate(self) -> None:
        self.keys.append(credential_keys.generate())

    def did_document(self) -> dict[str, Any]:
        published = [{"kid": k.kid, "publicKeyJwk": k.public_jwk()} for k in self.keys]
        return did.document(self.issuer.did, published)

    def credential(self, *, index: int = 42, list_id: str = "list1", **overrides: Any) -> str:
        self.lists.setdefault(list_id, set())
        payload = badge.credential(
            issuer=self.issuer,
            certificate_id="c" * 32,
            course_id="course1",
            course_title="Python for everyone",
            course_description="From zero to scripts.",
            holder_identity_hash=identity.identity_hash("Student@Example.com", "salt"),
            holder_identity_salt="salt",
            issued_at=ISSUED_AT,
            status=StatusEntry(list_id, index, self.issuer.list_url(list_id)),
        )
        payload.update(overrides)
        return badge.sign(payload, self.issuer, self.signing_key)

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if url == did.document_url(self.issuer.did):
            return json.dumps(self.did_document()).encode()
        for list_id, revoked in self.lists.items():
            if url == self.issuer.list_url(list_id):
                item = {"url": url, "issuer": self.issuer.did, "issuerName": self.issuer.name}
                return status_list.sign_list(item, revoked, self.signing_key).encode()
        raise LookupError(f"404 {url}")


@pytest.fixture
def site() -> IssuerSite:
    return IssuerSite()


def raw_ed25519_verify(token: str, did_document: dict[str, Any]) -> dict[str, Any]:
    """A second verifier: no joserfc, only the JWS definition and ``cryptography``'s Ed25519."""
    header_segment, payload_segment, signature_segment = token.split(".")
    header = json.loads(b64url(header_segment))
    assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt"
    (method,) = [m for m in did_document["verificationMethod"] if m["id"] == header["kid"]]
    assert header["kid"] in did_document["assertionMethod"]
    jwk = method["publicKeyJwk"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk
    public_key = Ed25519PublicKey.from_public_bytes(b64url(jwk["x"]))
    public_key.verify(b64url(signature_segment), f"{header_segment}.{payload_segment}".encode())
    return dict(json.loads(b64url(payload_segment)))


def test_a_credential_verifies_with_raw_ed25519_against_the_key_the_did_document_publishes(
    site: IssuerSite,
) -> None:
    token = site.credential()
    payload = raw_ed25519_verify(token, site.did_document())

    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["issuer"]["id"] == payload["iss"] == "did:web:127.0.0.1%3A3180"
    achievement = payload["credentialSubject"]["achievement"]
    assert achievement["name"] == "Python for everyone"
    assert achievement["description"] == "From zero to scripts."
    assert achievement["criteria"]["narrative"]
    assert payload["validFrom"] == "2026-11-01T12:00:00Z"
    assert payload["credentialStatus"] == {
        "id": f"{PUBLIC_URL}/credentials/status/list1#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": f"{PUBLIC_URL}/credentials/status/list1",
    }


def test_the_holder_is_a_salted_hash_and_no_email_is_in_the_credential(site: IssuerSite) -> None:
    token = site.credential()
    payload = json.loads(b64url(token.split(".")[1]))
    (identifier,) = payload["credentialSubject"]["identifier"]
    assert identifier["hashed"] is True and identifier["identityType"] == "emailAddress"
    assert (
        identifier["identityHash"]
        == "sha256$" + __import__("hashlib").sha256(b"student@example.comsalt").hexdigest()
    )
    assert "@" not in json.dumps(payload).replace("@context", "")


def test_a_tampered_payload_fails_both_verifiers(site: IssuerSite) -> None:
    token = site.credential()
    header, payload_segment, signature = token.split(".")
    payload = json.loads(b64url(payload_segment))
    payload["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    tampered = f"{header}.{forged}.{signature}"

    with pytest.raises(InvalidSignature):
        raw_ed25519_verify(tampered, site.did_document())
    result = verifier.verify(tampered, site.fetch)
    assert not result.valid and result.checks[0][0] == "signature" and not result.checks[0][1]


def test_a_credential_signed_by_a_key_the_issuer_never_published_fails(site: IssuerSite) -> None:
    intruder = credential_keys.generate()
    payload = json.loads(b64url(site.credential().split(".")[1]))
    forged = badge.sign(payload, site.issuer, credential_keys.SigningKey(site.signing_key.kid, intruder.key))
    assert not verifier.verify(forged, site.fetch).valid
    with pytest.raises(InvalidSignature):
        raw_ed25519_verify(forged, site.did_document())


def test_the_verifier_checks_signature_issuer_key_dates_and_status(site: IssuerSite) -> None:
    result = verifier.verify(site.credential(), site.fetch, now=ISSUED_AT + timedelta(days=1))
    assert result.valid, result.checks
    assert [name for name, _, _ in result.checks] == [
        "signature",
        "type",
        "dates",
        "status list signature",
        "status",
    ]
    assert site.fetched == [
        f"{PUBLIC_URL}/.well-known/did.json",
        f"{PUBLIC_URL}/credentials/status/list1",
        f"{PUBLIC_URL}/.well-known/did.json",
    ]


def test_a_set_bit_makes_the_credential_revoked(site: IssuerSite) -> None:
    token = site.credential(index=131_071)
    site.lists["list1"].add(131_071)
    result = verifier.verify(token, site.fetch)
    assert not result.valid and result.revoked
    assert ("status", False, "revocation: bit 131071 is set (the credential is revoked)") in result.checks


def test_validity_dates_are_checked(site: IssuerSite) -> None:
    early = verifier.verify(site.credential(), site.fetch, now=ISSUED_AT - timedelta(seconds=1))
    assert not early.valid and ("dates" in [n for n, ok, _ in early.checks if not ok])
    expired = verifier.verify(
        site.credential(validUntil="2026-11-02T00:00:00Z"), site.fetch, now=ISSUED_AT + timedelta(days=2)
    )
    assert not expired.valid and any(n == "dates" and not ok for n, ok, _ in expired.checks)


def test_a_rotated_key_still_verifies_old_credentials(site: IssuerSite) -> None:
    old = site.credential()
    site.rotate()
    new = site.credential(index=7)
    old_kid, new_kid = (json.loads(b64url(t.split(".")[0]))["kid"] for t in (old, new))
    assert old_kid != new_kid and old_kid.endswith(site.keys[0].kid) and new_kid.endswith(site.keys[1].kid)

    for token in (old, new):
        raw_ed25519_verify(token, site.did_document())
        assert verifier.verify(token, site.fetch).valid
    # The status list is now signed with the new key: the old credential's check uses both keys.
    assert len(site.did_document()["assertionMethod"]) == 2


def test_a_kid_outside_the_issuers_did_is_refused(site: IssuerSite) -> None:
    payload = json.loads(b64url(site.credential().split(".")[1]))
    other = Issuer(did="did:web:evil.example", name="Evil", public_url="https://evil.example")
    token = badge.sign(payload, other, site.signing_key)  # claims our issuer, names another DID's key
    result = verifier.verify(token, site.fetch)
    assert not result.valid and "is not a key of the issuer" in result.checks[0][2]


# --- the status list encoding (https://www.w3.org/TR/vc-bitstring-status-list/) ----------------


def test_the_encoded_list_decodes_per_the_w3c_spec_with_the_standard_library_only() -> None:
    encoded = status_list.encode({0, 7, 8, 65_535, 131_071})
    assert encoded.startswith("u") and "=" not in encoded  # multibase base64url, no padding
    compressed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert compressed[:2] == b"\x1f\x8b"  # GZIP
    bitstring = zlib.decompress(compressed, 16 + zlib.MAX_WBITS)
    assert len(bitstring) == 16_384 and len(bitstring) * 8 == 131_072  # 16 KB, the minimum
    set_bits = {i for i in range(131_072) if bitstring[i // 8] >> (7 - i % 8) & 1}  # index 0: left-most
    assert set_bits == {0, 7, 8, 65_535, 131_071}
    assert bitstring[0] == 0b1000_0001 and bitstring[1] == 0b1000_0000


def test_the_spec_example_of_an_empty_list_decodes_to_16_kb_of_zeros() -> None:
    example = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    assert status_list.decode(example) == bytes(16_384)
    assert status_list.decode(status_list.encode(())) == bytes(16_384)


def test_indexes_outside_the_list_are_refused() -> None:
    with pytest.raises(ValueError):
        status_list.encode({131_072})
    with pytest.raises(ValueError):
        status_list.is_set(bytes(16_384), -1)


def test_the_status_list_credential_is_a_signed_bitstring_status_list(site: IssuerSite) -> None:
    site.lists["list1"] = {3}
    token = site.fetch(site.issuer.list_url("list1")).decode()
    payload = raw_ed25519_verify(token, site.did_document())
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = payload["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert status_list.is_set(gzip.decompress(b64url(subject["encodedList"][1:])), 3)


# --- did:web ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("public_url", "expected_did", "document_url"),
    [
        (
            "https://lms.example.com",
            "did:web:lms.example.com",
            "https://lms.example.com/.well-known/did.json",
        ),
        (
            "https://lms.example.com/",
            "did:web:lms.example.com",
            "https://lms.example.com/.well-known/did.json",
        ),
        (
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
            "did:web:abc.execute-api.eu-west-1.amazonaws.com:prod",
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/did.json",
        ),
        ("http://127.0.0.1:3180", "did:web:127.0.0.1%3A3180", "http://127.0.0.1:3180/.well-known/did.json"),
        ("http://localhost:3000", "did:web:localhost%3A3000", "http://localhost:3000/.well-known/did.json"),
    ],
)
def test_did_web_of_the_public_url(public_url: str, expected_did: str, document_url: str) -> None:
    assert did.did_web(public_url) == expected_did
    assert did.document_url(expected_did) == document_url


def test_the_signing_key_secret_round_trips_and_an_empty_secret_says_what_to_run() -> None:
    from lms.errors import ConfigurationError

    signing_key = credential_keys.generate()
    restored = credential_keys.parse_secret(credential_keys.secret_value(signing_key))
    assert restored.kid == signing_key.kid and restored.public_jwk() == signing_key.public_jwk()
    with pytest.raises(ConfigurationError, match="rotate-key"):
        credential_keys.parse_secret("a-random-password-cdk-generated")
