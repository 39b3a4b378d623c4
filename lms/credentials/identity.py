"""The holder's identity in a credential: a salted SHA-256 of their email (OB 3.0 ``IdentityObject``).

The credential never carries the email in clear; the holder can still prove it is theirs by
revealing the address (and the verifier recomputes the hash with the salt printed beside it).
"""

from __future__ import annotations

import hashlib
import secrets

from lms.keys import normalise_email


def new_salt() -> str:
    return secrets.token_hex(16)


def identity_hash(email: str, salt: str) -> str:
    """``sha256$`` and the hex SHA-256 of the normalised email followed by the salt."""
    return "sha256$" + hashlib.sha256((normalise_email(email) + salt).encode()).hexdigest()
