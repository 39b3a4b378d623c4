"""Secrets out of anything shown to an operator: execution input/output, state history, log records.

Two nets: values under a sensitive key (``clientSecret``, ``taskToken``, ``passwordHash``, ...) are
replaced whole, and secret-shaped strings anywhere else (a Stripe key in an error cause, a JWT pasted
into a message) are masked by pattern. JSON carried inside strings (Step Functions keeps state input
and output as JSON text) is parsed and redacted too.
"""

from __future__ import annotations

import json
import re
from typing import Any

REDACTED = "***redacted***"

# Compared lower-cased without "_" and "-": client_secret, clientSecret, Client-Secret all match.
_SENSITIVE_KEY_PARTS = ("secret", "password", "token", "authorization", "apikey", "cookie", "signature")
# Keys that contain a sensitive word but hold no secret (a timestamp, a count of tokens in flight).
_HARMLESS_KEYS = frozenset({"tokensvalidafter", "tokentype"})

_SECRET_PATTERNS = (
    re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]+"),  # Stripe API keys
    re.compile(r"\bwhsec_[A-Za-z0-9]+"),  # Stripe webhook signing secrets
    re.compile(r"\b[a-z]{2,4}_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"),  # PaymentIntent client secrets
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),  # JWTs (access tokens)
    re.compile(r"\$argon2(?:id|i|d)\$[^\s\"']+"),  # password hashes
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
)


def is_sensitive_key(key: str) -> bool:
    normalized = key.lower().replace("_", "").replace("-", "")
    return normalized not in _HARMLESS_KEYS and any(part in normalized for part in _SENSITIVE_KEY_PARTS)


def redact_text(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret replaced by :data:`REDACTED`."""
    if isinstance(value, dict):
        return {
            key: REDACTED if is_sensitive_key(str(key)) and item is not None else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_json_text(text: str | None) -> Any:
    """Parse JSON text (as Step Functions returns input and output) and redact it; non-JSON is masked."""
    if text is None:
        return None
    try:
        return redact(json.loads(text))
    except ValueError:
        return redact_text(text)
