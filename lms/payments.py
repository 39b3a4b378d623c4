"""The payment gateway port and its Stripe adapter.

Every POST carries an idempotency key derived from our own ids, so a retried task never charges
twice. Stripe errors are sorted into transient (retried by the state machine) and business errors
(caught and turned into a FAILED transaction). ``stripe`` is imported lazily: the API Lambda only
pays its import cost on the routes that talk to Stripe.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Protocol

from lms import aws
from lms.clock import epoch_seconds
from lms.errors import ConfigurationError
from lms.settings import get_settings

WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentProviderUnavailableError(Exception):
    """Transient: Stripe answered 5xx / 429 or could not be reached. The state machine retries it."""


class PaymentRejectedError(Exception):
    """Business: Stripe refused the request (bad parameters, card error). Not retried."""


class WebhookSignatureError(Exception):
    """The webhook was not signed by our endpoint secret, or its timestamp is outside the tolerance."""


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str  # requires_payment_method, requires_confirmation, processing, succeeded, canceled, ...
    amount: int
    currency: str
    client_secret: str | None
    metadata: dict[str, str]
    failure_message: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object_id: str | None
    created: int


class PaymentGateway(Protocol):
    def create_payment_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> PaymentIntent: ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent: ...

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...

    def refund(self, payment_intent_id: str, *, idempotency_key: str) -> str: ...

    def find_refund(self, payment_intent_id: str) -> str | None: ...


@dataclass(frozen=True)
class StripeSecrets:
    secret_key: str
    webhook_secret: str | None


@functools.cache
def _secrets_from_manager(arn: str) -> StripeSecrets:
    raw = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    return StripeSecrets(secret_key=raw["secretKey"], webhook_secret=raw.get("webhookSecret"))


def stripe_secrets() -> StripeSecrets:
    settings = get_settings()
    if settings.stripe_secret_key:
        return StripeSecrets(settings.stripe_secret_key, settings.stripe_webhook_secret)
    if settings.stripe_secret_arn:
        return _secrets_from_manager(settings.stripe_secret_arn)
    raise ConfigurationError(
        "No Stripe key: set STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET) or LMS_STRIPE_SECRET_ARN."
    )


def _to_intent(resource: Any) -> PaymentIntent:
    raw = resource.to_dict() if hasattr(resource, "to_dict") else dict(resource)
    error = raw.get("last_payment_error")
    metadata = raw.get("metadata")
    return PaymentIntent(
        id=raw["id"],
        status=raw["status"],
        amount=int(raw["amount"]),
        currency=raw["currency"],
        client_secret=raw.get("client_secret"),
        metadata={str(k): str(v) for k, v in (metadata or {}).items()},
        failure_message=(error.get("message") if error else None),
    )


class StripeGateway:
    """The Stripe SDK behind :class:`PaymentGateway`."""

    def __init__(self, secrets: StripeSecrets, api_base: str | None = None) -> None:
        import stripe

        self._stripe = stripe
        self._client = stripe.StripeClient(
            secrets.secret_key,
            base_addresses={"api": api_base} if api_base else {},
            max_network_retries=0,  # the state machine owns retries
        )

    def _call(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        stripe = self._stripe
        try:
            return operation(*args, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise PaymentProviderUnavailableError(str(error)) from error
        except stripe.StripeError as error:
            status = error.http_status or 0
            if status >= 500 or status == 429:
                raise PaymentProviderUnavailableError(str(error)) from error
            raise PaymentRejectedError(error.user_message or str(error)) from error

    def create_payment_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> PaymentIntent:
        params = {
            "amount": amount,
            "currency": currency,
            "metadata": metadata,
            "payment_method_types": ["card"],
        }
        raw = self._call(
            self._client.v1.payment_intents.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        return _to_intent(raw)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        return _to_intent(self._call(self._client.v1.payment_intents.retrieve, payment_intent_id))

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        # No look first: a look would only narrow the race with a confirmation, not close it. Stripe
        # refuses to cancel a succeeded or canceled PaymentIntent (PaymentRejectedError), and the
        # caller re-reads it and acts on what it finds.
        raw = self._call(
            self._client.v1.payment_intents.cancel,
            payment_intent_id,
            options={"idempotency_key": idempotency_key},
        )
        return _to_intent(raw)

    def refund(self, payment_intent_id: str, *, idempotency_key: str) -> str:
        raw = self._call(
            self._client.v1.refunds.create,
            params={"payment_intent": payment_intent_id},
            options={"idempotency_key": idempotency_key},
        )
        return str(raw["id"])

    def find_refund(self, payment_intent_id: str) -> str | None:
        """The refund already made for the PaymentIntent, if any (one that did not fail or get canceled).

        Stripe replays an idempotent refund only for 24 hours; after that a second create answers
        "already refunded", so a refund that must be finished looks first.
        """
        intent = self._call(self._client.v1.payment_intents.retrieve, payment_intent_id)
        if not intent.to_dict().get("latest_charge"):
            return None  # never charged, so never refunded (localstripe cannot list refunds of it)
        raw = self._call(
            self._client.v1.refunds.list, params={"payment_intent": payment_intent_id, "limit": 10}
        )
        for refund in raw.data:
            if refund["status"] not in ("failed", "canceled"):
                return str(refund["id"])
        return None

    def construct_event(self, payload: bytes, signature_header: str | None, secret: str) -> WebhookEvent:
        stripe = self._stripe
        _reject_future_timestamp(signature_header)
        try:
            event = stripe.Webhook.construct_event(
                payload, signature_header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise WebhookSignatureError(str(error)) from error
        raw = event.to_dict()
        data_object = (raw.get("data") or {}).get("object") or {}
        return WebhookEvent(
            id=raw["id"], type=raw["type"], object_id=data_object.get("id"), created=int(raw["created"])
        )


def _reject_future_timestamp(signature_header: str | None) -> None:
    """The SDK's tolerance only rejects old timestamps; a timestamp from the future is as suspect."""
    for part in (signature_header or "").split(","):
        name, _, value = part.partition("=")
        if name.strip() == "t":
            if not value.strip().isdigit():
                raise WebhookSignatureError("The signature timestamp is not a number.")
            if int(value) > epoch_seconds() + WEBHOOK_TOLERANCE_SECONDS:
                raise WebhookSignatureError("The signature timestamp is in the future.")
            return
    raise WebhookSignatureError("No timestamp in the Stripe-Signature header.")


@functools.cache
def _gateway(secret_key: str, api_base: str | None) -> StripeGateway:
    return StripeGateway(StripeSecrets(secret_key, None), api_base)


def gateway() -> StripeGateway:
    """The configured gateway, created once per process (warm Lambdas reuse the HTTP client)."""
    return _gateway(stripe_secrets().secret_key, get_settings().stripe_api_base)
