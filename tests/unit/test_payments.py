"""Payment rules that need no network: webhook timestamps, error sorting, failure reasons."""

from __future__ import annotations

import time

import pytest
import stripe

from lms import payments, purchases


@pytest.mark.parametrize(
    "header",
    [None, "", "v1=abc", "t=soon,v1=abc", f"t={int(time.time()) + 3600},v1=abc"],
    ids=["missing", "empty", "no timestamp", "not a number", "an hour in the future"],
)
def test_signature_headers_without_a_sane_timestamp_are_refused(header) -> None:
    with pytest.raises(payments.WebhookSignatureError):
        payments._reject_future_timestamp(header)


def test_a_current_timestamp_passes_the_future_check() -> None:
    payments._reject_future_timestamp(f"t={int(time.time())},v1=abc")


class FakeOperation:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def __call__(self, *args, **kwargs):
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (stripe.APIConnectionError("network down"), payments.PaymentProviderUnavailableError),
        (stripe.RateLimitError("slow down", http_status=429), payments.PaymentProviderUnavailableError),
        (stripe.APIError("boom", http_status=503), payments.PaymentProviderUnavailableError),
        (
            stripe.InvalidRequestError("bad amount", param="amount", http_status=400),
            payments.PaymentRejectedError,
        ),
        (
            stripe.CardError("declined", param=None, code="card_declined", http_status=402),
            payments.PaymentRejectedError,
        ),
    ],
)
def test_stripe_errors_are_sorted_into_transient_and_business(error, expected) -> None:
    gateway = payments.StripeGateway(payments.StripeSecrets("sk_test_unit", None))
    with pytest.raises(expected):
        gateway._call(FakeOperation(error))


def test_failure_reasons_show_business_messages_and_hide_internal_ones() -> None:
    declined = {"Error": "PaymentFailed", "Cause": "Your card was declined."}
    assert purchases.describe_error(declined) == "Your card was declined."
    lambda_error = {
        "Error": "OrderNotValidError",
        "Cause": '{"errorMessage": "The course is not published."}',
    }
    assert purchases.describe_error(lambda_error) == "The course is not published."
    internal = {"Error": "KeyError", "Cause": '{"errorMessage": "secret stack details", "stackTrace": []}'}
    reason = purchases.describe_error(internal)
    assert "KeyError" in reason and "secret" not in reason


def test_idempotency_keys_map_to_one_transaction_per_user() -> None:
    assert purchases.transaction_id_for("u1", "c1", "k") == purchases.transaction_id_for("u1", "c1", "k")
    assert purchases.transaction_id_for("u1", "c1", "k") != purchases.transaction_id_for("u2", "c1", "k")
    assert purchases.transaction_id_for("u1", "c1", "k") != purchases.transaction_id_for("u1", "c2", "k")
    assert purchases.transaction_id_for("u1", "c1", None) != purchases.transaction_id_for("u1", "c1", None)


def test_losing_a_transaction_race_is_transient_but_a_failed_condition_is_not() -> None:
    from botocore.exceptions import ClientError

    from tasks.runtime import is_transient

    def cancelled(*codes: str) -> ClientError:
        reasons = [{"Code": code} for code in codes]
        return ClientError(
            {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
            "TransactWriteItems",
        )

    assert is_transient(cancelled("None", "TransactionConflict", "None"))
    assert not is_transient(cancelled("ConditionalCheckFailed", "None"))
    assert is_transient(ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem"))
