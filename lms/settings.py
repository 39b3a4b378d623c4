"""Configuration read from the environment, once, lazily (so tests can set the environment first)."""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, Field


class Settings(BaseModel):
    """Every knob of the product. Names are the environment variables, upper-cased with ``LMS_``."""

    table_name: str = "lms"
    bucket_name: str = "lms-media"
    # The JWT signing secret: inline (local dev, generated per process) or a Secrets Manager ARN (AWS).
    jwt_secret: str | None = Field(default=None, repr=False)
    jwt_secret_arn: str | None = None
    jwt_issuer: str = "lms"
    jwt_audience: str = "lms-api"
    access_token_ttl_seconds: int = Field(default=30 * 60, ge=60, le=60 * 60)
    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:5173"])
    max_body_bytes: int = 64 * 1024
    max_page_size: int = 100
    # Purchases: how long a student has to pay before the transaction EXPIRES.
    payment_window_seconds: int = Field(default=30 * 60, ge=1, le=24 * 3600)
    # How long POST /transactions waits for the PaymentIntent's client secret before answering without it.
    client_secret_wait_seconds: float = Field(default=5.0, ge=0, le=20)
    event_bus_name: str = "lms"
    # Publishing: how long a run waits for an admin's decision before it ends FAILED ("approval timed out").
    approval_timeout_seconds: int = Field(default=7 * 24 * 3600, ge=1, le=30 * 24 * 3600)
    # Stripe: the secret key and webhook secret inline (local, Stripe test mode) or in Secrets Manager
    # (AWS: a JSON secret {"secretKey": ..., "webhookSecret": ...}); api_base points at localstripe locally.
    stripe_secret_key: str | None = Field(default=None, repr=False)
    stripe_webhook_secret: str | None = Field(default=None, repr=False)
    stripe_secret_arn: str | None = None
    stripe_api_base: str | None = None
    # Login throttling: failures allowed per window, per account and per source address.
    login_window_seconds: int = 15 * 60
    login_max_failures_per_account: int = 5
    login_max_failures_per_source: int = 20
    # Certificates: public verifications allowed per source address per window (then 429), and the
    # base URL printed in a certificate's QR code (unset: the URL the API was called on).
    verify_window_seconds: int = Field(default=60, ge=1)
    verify_max_per_source: int = Field(default=30, ge=1)
    public_url: str | None = None
    # Video processing: the limits an upload is issued with (recorded on it, enforced by its workflow).
    video_max_upload_bytes: int = Field(default=5 * 1024**3, ge=1)
    video_max_duration_seconds: int = Field(default=4 * 3600, ge=1)
    # Sources longer than this are split at keyframes into chunks transcoded in parallel (one Lambda
    # runs at most 15 minutes); shorter ones are transcoded whole, one rendition per task.
    video_split_above_seconds: float = Field(default=600, gt=0)
    video_chunk_seconds: float = Field(default=300, gt=0)
    video_upload_url_seconds: int = Field(default=15 * 60, ge=60, le=12 * 3600)
    video_playback_url_seconds: int = Field(default=60 * 60, ge=60, le=12 * 3600)
    # Email (lms.mail): the sender (an SES identity: created by the local cloud, verified in AWS),
    # an optional SES configuration set, the key that signs unsubscribe links (inline locally,
    # generated per process; a Secrets Manager ARN in AWS), and how long a sent-mail marker is kept.
    mail_from: str = "LMS <no-reply@lms.localhost>"
    mail_configuration_set: str | None = None
    mail_secret: str | None = Field(default=None, repr=False)
    mail_secret_arn: str | None = None
    mail_marker_days: int = Field(default=30, ge=1, le=365)
    # Assignments (issue 16): a waiting submission earns the instructor a reminder after this long;
    # the grading run waits this long at most, then records GRADING_EXPIRED (never silently).
    grading_reminder_seconds: int = Field(default=3 * 24 * 3600, ge=60)
    grading_timeout_seconds: int = Field(default=60 * 24 * 3600, ge=1, le=300 * 24 * 3600)
    submission_upload_url_seconds: int = Field(default=15 * 60, ge=60, le=12 * 3600)
    submission_download_url_seconds: int = Field(default=5 * 60, ge=30, le=3600)
    # How often a file submission's run looks for the upload (until its upload URL has expired).
    submission_upload_check_seconds: int = Field(default=30, ge=1, le=3600)
    # Verifiable credentials: the Secrets Manager secret holding the issuer's Ed25519 signing key
    # (read by the signing functions only) and the issuer's display name in every credential.
    credential_key_secret_arn: str | None = None
    credential_issuer_name: str = "LMS"


def _env_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@functools.cache
def get_settings() -> Settings:
    values: dict[str, object] = {}
    for name, field in Settings.model_fields.items():
        raw = os.environ.get(f"LMS_{name.upper()}")
        if raw is None:
            continue
        values[name] = _env_list(raw) if field.annotation == list[str] else raw
    # Stripe's conventional names work too, so a Stripe test key can be dropped in as-is.
    for name in ("stripe_secret_key", "stripe_webhook_secret"):
        if name not in values and os.environ.get(name.upper()):
            values[name] = os.environ[name.upper()]
    return Settings.model_validate(values)


def reset_settings() -> None:
    """Forget cached settings (tests and the local cloud change the environment)."""
    get_settings.cache_clear()
