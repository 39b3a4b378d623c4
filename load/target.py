"""What `make load` runs against, and the checks made before it sends a single request.

The API is ``LOAD_URL``, else the running ``lms dev`` of this checkout, found as the ``lms`` command
finds it (:mod:`infra.local.dev_state`: exported ``LMS_*_PORT`` variables, else ``.lms/dev.json``).
Payments go to ``LOAD_STRIPE_URL``, else that instance's localstripe. A production Stripe key
(``sk_live_``/``rk_live_``) or an API that is not on this machine is refused unless
``LOAD_I_MEAN_IT=1``: a load run creates accounts, courses and purchases wherever it points.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
# localstripe accepts any test key; Stripe test mode needs the account's own (STRIPE_SECRET_KEY).
LOCAL_STRIPE_KEY = "sk_test_load_suite"


class RefusedError(Exception):
    """The run would touch something it must not without ``LOAD_I_MEAN_IT=1``; says what and why."""


@dataclass(frozen=True)
class Target:
    api_url: str
    stripe_url: str | None  # None: no payments (the purchase flow cannot run)
    stripe_key: str
    cloud_url: str | None  # the local cloud of a local `lms dev`: the runner creates its accounts there


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS or urlsplit(url).netloc.startswith("[::1]")


def find_target(environ: dict[str, str] | None = None) -> Target:
    """The API, Stripe and local cloud to use; raises :class:`RefusedError` or ``LookupError``."""
    env = dict(os.environ if environ is None else environ)
    api_url = env.get("LOAD_URL", "").rstrip("/")
    stripe_url = env.get("LOAD_STRIPE_URL", "").rstrip("/") or None
    cloud_url = env.get("LOAD_CLOUD_URL", "").rstrip("/") or None
    if not api_url:
        from infra.local import dev_state

        instance = dev_state.running()
        exported = "LMS_API_PORT" in env
        if instance is None and not exported:
            raise LookupError(f"No LOAD_URL and no running `lms dev` ({dev_state.not_running_hint()}).")
        api_url = f"http://127.0.0.1:{dev_state.port('LMS_API_PORT', 3000)}"
        cloud_url = cloud_url or f"http://127.0.0.1:{dev_state.port('LMS_CLOUD_PORT', 4566)}"
        if stripe_url is None and (instance is None or instance.stripe_port is not None):
            stripe_url = f"http://127.0.0.1:{dev_state.port('LMS_STRIPE_PORT', 8420)}"
    stripe_key = env.get("STRIPE_SECRET_KEY") or LOCAL_STRIPE_KEY
    if stripe_url is None and env.get("STRIPE_SECRET_KEY"):
        stripe_url = "https://api.stripe.com"
    target = Target(api_url=api_url, stripe_url=stripe_url, stripe_key=stripe_key, cloud_url=cloud_url)
    check_safe(target, env)
    return target


def check_safe(target: Target, environ: dict[str, str]) -> None:
    """Refuse a production Stripe key or a non-local API, unless ``LOAD_I_MEAN_IT=1``."""
    if environ.get("LOAD_I_MEAN_IT") == "1":
        return
    if target.stripe_key.startswith(LIVE_KEY_PREFIXES):
        raise RefusedError(
            "STRIPE_SECRET_KEY is a live (production) key: a load run would create real PaymentIntents. "
            "Use a test key, or set LOAD_I_MEAN_IT=1 if that is really what you want."
        )
    if not is_local(target.api_url):
        raise RefusedError(
            f"{target.api_url} is not on this machine: a load run registers users and buys courses there. "
            "Set LOAD_I_MEAN_IT=1 to run against it anyway."
        )
