"""Local payments: localstripe as a separate process, and the customer's side of a payment.

localstripe (PyPI, GPL-3.0) is a stateful fake of the Stripe API that sends signed webhooks. It is
installed in its own virtualenv (``.venv-localstripe``, by ``make``) and only ever run as a server
process on loopback: product code talks to it through the official Stripe SDK and never imports it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import requests

from infra.constants import PROJECT_ROOT

DEFAULT_BINARY = PROJECT_ROOT / ".venv-localstripe" / "bin" / "localstripe"
WEBHOOK_ID = "lms"

# Stripe test mode refuses raw card numbers over the API; these test PaymentMethods behave the same.
TEST_MODE_PAYMENT_METHODS = {
    "4242424242424242": "pm_card_visa",
    "4000000000000341": "pm_card_chargeCustomerFail",
    "4000000000000002": "pm_card_chargeDeclined",
}


class LocalStripe:
    """Start with :meth:`start`; :meth:`configure_environment` points this process's Stripe SDK at it."""

    def __init__(self, port: int = 8420, binary: Path | None = None) -> None:
        self.port = port
        self.binary = Path(os.environ.get("LMS_LOCALSTRIPE", binary or DEFAULT_BINARY))
        self.secret_key = f"sk_test_local_{secrets.token_hex(8)}"
        self.webhook_secret = f"whsec_{secrets.token_urlsafe(24)}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_seconds: float = 20) -> LocalStripe:
        if not self.binary.exists():
            raise FileNotFoundError(f"localstripe is not installed at {self.binary}: run `make setup`.")
        self._process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own binary
            [str(self.binary), "--port", str(self.port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"localstripe exited with {self._process.returncode} (is port {self.port} free?)"
                )
            try:
                requests.get(f"{self.url}/js.stripe.com/v3/", timeout=1).raise_for_status()
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"localstripe did not answer on port {self.port}")

    def register_webhook(self, url: str) -> None:
        """localstripe signs each event with our secret and POSTs it to ``url``, as Stripe does."""
        response = requests.post(
            f"{self.url}/_config/webhooks/{WEBHOOK_ID}",
            data={"url": url, "secret": self.webhook_secret},
            timeout=5,
        )
        response.raise_for_status()

    def configure_environment(self) -> None:
        os.environ.update(
            {
                "STRIPE_SECRET_KEY": self.secret_key,
                "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
                "LMS_STRIPE_API_BASE": self.url,
            }
        )

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()


def pay(payment_intent_id: str, card_number: str) -> tuple[str, str | None]:
    """Play the customer's browser: attach a test card to the PaymentIntent and confirm it.

    Returns ``(status, decline message)``. Uses the configured Stripe key, so it works against
    localstripe and against Stripe test mode alike.
    """
    import stripe

    from lms.payments import stripe_secrets
    from lms.settings import get_settings

    api_base = get_settings().stripe_api_base
    client = stripe.StripeClient(
        stripe_secrets().secret_key, base_addresses={"api": api_base} if api_base else {}
    )
    if api_base:  # localstripe takes raw test card numbers
        method = client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": card_number, "exp_month": 12, "exp_year": 2040, "cvc": "123"},
            }
        ).id
    else:
        method = TEST_MODE_PAYMENT_METHODS.get(card_number, "pm_card_visa")
    client.v1.payment_intents.update(payment_intent_id, params={"payment_method": method})
    try:
        intent = client.v1.payment_intents.confirm(payment_intent_id)
        return str(intent.status), None
    except stripe.CardError as error:
        return "declined", error.user_message
