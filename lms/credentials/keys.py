"""The issuer's Ed25519 keys: the private key in Secrets Manager, the public keys in the table.

The secret holds the one key that signs now, as JSON ``{"kid": ..., "privateKeyJwk": {...}}``. Every
public key ever used stays published (an item per ``kid``) so credentials signed before a rotation
keep verifying. A rotation publishes the new public key first, then replaces the secret's value: a
credential is never signed with a key a verifier cannot find.

Only the functions that sign (RecordCertificate, RevokeCertificate) may read the secret; the API
publishes the public keys from the table and never sees the private key.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lms import aws, keys
from lms.clock import isoformat, utcnow
from lms.errors import ConfigurationError
from lms.expressions import item_absent
from lms.settings import get_settings
from lms.table import Table

if TYPE_CHECKING:
    from joserfc.jwk import OKPKey

# joserfc is packaged with the signing functions only: the API (which publishes the public keys from
# the table) imports this module without it, so the functions that sign import it when they do.

# A warm function re-reads the secret this often, so a rotation reaches it within minutes.
CACHE_SECONDS = 300


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: OKPKey

    def public_jwk(self) -> dict[str, str]:
        from lms.credentials import jose

        return jose.public_jwk(self.key)


def new_kid() -> str:
    """Sortable by creation time, unique by its random tail."""
    return f"key-{utcnow():%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def generate() -> SigningKey:
    from lms.credentials import jose

    return SigningKey(new_kid(), jose.generate_private_key())


def secret_value(signing_key: SigningKey) -> str:
    return json.dumps({"kid": signing_key.kid, "privateKeyJwk": signing_key.key.as_dict(private=True)})


def parse_secret(value: str) -> SigningKey:
    from lms.credentials import jose

    try:
        raw = json.loads(value)
        return SigningKey(str(raw["kid"]), jose.import_key(raw["privateKeyJwk"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigurationError(
            "The credential signing key secret holds no key: run `lms credentials rotate-key`."
        ) from error


def publish(table: Table, signing_key: SigningKey) -> None:
    """Publish the public key under its kid (once: a kid is never re-bound to another key)."""
    table.put(
        {
            **keys.credential_key(signing_key.kid).as_item(),
            "kid": signing_key.kid,
            "publicKeyJwk": signing_key.public_jwk(),
            "createdAt": isoformat(utcnow()),
        },
        when=item_absent(),
    )


def published_keys(table: Table) -> list[dict[str, Any]]:
    """Every public key ever used, oldest first: ``{"kid", "publicKeyJwk", "createdAt"}``."""
    items = table.query_all(
        partition=(keys.PK, keys.CREDENTIAL_KEYS_PARTITION),
        sort_prefix=(keys.SK, keys.CREDENTIAL_KEY_PREFIX),
    )
    return [
        {"kid": item["kid"], "publicKeyJwk": item["publicKeyJwk"], "createdAt": item["createdAt"]}
        for item in items
    ]


def rotate(table: Table, secret_id: str) -> SigningKey:
    """A new signing key: its public key published, then stored as the secret's current value."""
    signing_key = generate()
    publish(table, signing_key)
    aws.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=secret_value(signing_key))
    forget_cached_key()
    return signing_key


_lock = threading.Lock()
_cached: tuple[float, SigningKey] | None = None


def current_signing_key() -> SigningKey:
    """The key that signs now, from Secrets Manager (cached for :data:`CACHE_SECONDS`)."""
    global _cached
    with _lock:
        if _cached is not None and time.monotonic() - _cached[0] < CACHE_SECONDS:
            return _cached[1]
        arn = get_settings().credential_key_secret_arn
        if not arn:
            raise ConfigurationError("No credential signing key: set LMS_CREDENTIAL_KEY_SECRET_ARN.")
        value = aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        signing_key = parse_secret(str(value))
        _cached = (time.monotonic(), signing_key)
        return signing_key


def forget_cached_key() -> None:
    global _cached
    with _lock:
        _cached = None
