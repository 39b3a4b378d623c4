"""VC-JWT signing and checking with joserfc: compact JWS, ``alg`` EdDSA over an Ed25519 key.

The payload is the credential itself (VC-JOSE-COSE, ``typ`` ``vc+jwt``, ``cty`` ``vc``), plus the
registered claims older VC-JWT verifiers read (``iss``, ``sub``, ``jti``, ``nbf``, ``iat``).
"""

from __future__ import annotations

import json
from typing import Any

from joserfc import jws
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry

ALGORITHM = "EdDSA"
MEDIA_TYPE = "application/vc+jwt"
JWT_TYPE = "vc+jwt"


class _EdDSAOnly(JWSRegistry):
    """EdDSA and nothing else. RFC 9864 (2025) names the fully-specified ``Ed25519`` alg and
    deprecates ``EdDSA`` (joserfc warns on every use); Open Badges 3.0 and the VC-JWT verifiers in
    use today expect ``EdDSA``, the same Ed25519 signature, so it is kept without the warning."""

    def get_alg(self, name: str) -> Any:  # joserfc's JWSAlgModel (not exported by joserfc.jws)
        if name != ALGORITHM:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


_REGISTRY = _EdDSAOnly(algorithms=[ALGORITHM])


def generate_private_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519", private=True)


def import_key(jwk: dict[str, Any]) -> OKPKey:
    return OKPKey.import_key(jwk)


def public_jwk(key: OKPKey) -> dict[str, str]:
    """The public half as a JWK (``kty``, ``crv``, ``x``): what the DID document publishes."""
    public = key.as_dict(private=False)
    return {"kty": str(public["kty"]), "crv": str(public["crv"]), "x": str(public["x"])}


def sign(payload: dict[str, Any], key: OKPKey, *, kid: str) -> str:
    """A compact JWS of ``payload`` (compact JSON, keys in insertion order)."""
    header = {"alg": ALGORITHM, "kid": kid, "typ": JWT_TYPE, "cty": "vc"}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return jws.serialize_compact(header, body, key, registry=_REGISTRY)


def unverified_header(token: str) -> dict[str, Any]:
    """The protected header, read before the key is known (to find the ``kid``)."""
    return dict(jws.extract_compact(token.encode()).protected)


def verify(token: str, public_key: dict[str, Any]) -> dict[str, Any]:
    """The payload if ``token`` is signed by ``public_key`` with EdDSA; raises ValueError otherwise."""
    try:
        found = jws.deserialize_compact(token, OKPKey.import_key(public_key), registry=_REGISTRY)
    except Exception as error:  # joserfc raises its own errors, all of them mean "does not verify"
        raise ValueError(f"the signature does not verify: {error}") from error
    payload = json.loads(found.payload)
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    return payload
