"""What a course may cost: a currency Stripe charges in, and free or at least Stripe's minimum charge."""

from __future__ import annotations

from lms.errors import BusinessRuleError

# Stripe's minimum charge per currency we sell in (minor units); a free course (0) is never charged.
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30}
SUPPORTED_CURRENCIES = tuple(MINIMUM_CHARGE)


class UnsupportedCurrencyError(BusinessRuleError):
    code = "UNSUPPORTED_CURRENCY"


class PriceBelowMinimumError(BusinessRuleError):
    code = "PRICE_BELOW_MINIMUM"


def check_price(price_cents: int, currency: str) -> None:
    """A price Stripe can charge: a supported currency, and free or at least the minimum charge."""
    minimum = MINIMUM_CHARGE.get(currency)
    if minimum is None:
        raise UnsupportedCurrencyError(
            f"Courses are sold in {', '.join(SUPPORTED_CURRENCIES)}, not {currency!r}."
        )
    if 0 < price_cents < minimum:
        raise PriceBelowMinimumError(
            f"A paid course costs at least {minimum} minor units of {currency} (Stripe's minimum charge); "
            "0 makes it free."
        )
