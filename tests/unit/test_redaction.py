"""What ops see of execution data and history: secrets replaced, everything else intact."""

from __future__ import annotations

import json

from lms.redaction import REDACTED, redact, redact_json_text


def test_values_under_sensitive_keys_are_replaced_in_any_spelling_and_depth() -> None:
    shown = redact(
        {
            "clientSecret": "pi_1_secret_2",
            "pendingItem": {"taskToken": {"S": "AAAA"}, "status": {"S": "PENDING"}},
            "user": {"password_hash": "x", "Authorization": "Bearer y", "email": "a@b.c"},
            "tokensValidAfter": "2026-01-01T00:00:00Z",
            "items": [{"webhook-secret": "w"}],
        }
    )
    assert shown == {
        "clientSecret": REDACTED,
        "pendingItem": {"taskToken": REDACTED, "status": {"S": "PENDING"}},
        "user": {"password_hash": REDACTED, "Authorization": REDACTED, "email": "a@b.c"},
        "tokensValidAfter": "2026-01-01T00:00:00Z",
        "items": [{"webhook-secret": REDACTED}],
    }


def test_secret_shaped_text_is_masked_wherever_it_appears() -> None:
    cause = (
        "Invalid API Key provided: sk_test_abc123; signature whsec_XYZ; pay with pi_3Ab_secret_9Zz; "
        "token eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl; hash $argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
    )
    shown = redact(cause)
    for secret in ("sk_test_abc123", "whsec_XYZ", "pi_3Ab_secret_9Zz", "eyJhbGciOi", "$argon2id$"):
        assert secret not in shown
    assert shown.startswith("Invalid API Key provided: ")


def test_json_text_is_parsed_then_redacted_and_other_text_is_masked() -> None:
    text = json.dumps({"Payload": {"taskToken": "t0k3n", "transactionId": "tx1"}})
    assert redact_json_text(text) == {"Payload": {"taskToken": REDACTED, "transactionId": "tx1"}}
    assert redact_json_text("not json with sk_live_999") == f"not json with {REDACTED}"
    assert redact_json_text(None) is None
