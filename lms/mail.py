"""Email to users through Amazon SES (SESv2), with RFC 8058 one-click unsubscribe.

:func:`send` is the one way product code emails a user. It

* sends nothing to a deactivated or unknown user (the address is read from the user, never passed);
* sends at most once per ``idempotency_key``: a conditional put of a sent-mail marker comes first,
  so an at-least-once caller (an event consumer, a retried task) never double-sends; if SES refuses
  the message the marker is removed again, so the retry can send it;
* with ``unsubscribe``, adds ``List-Unsubscribe: <https://.../mail/unsubscribe?token=...>`` and
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058) and the same link in the body.
  The token is signed (HMAC-SHA256 with the mail secret) and names the user, the scope and the
  scope's id; ``POST /mail/unsubscribe`` calls the handler a feature module registered for that
  scope in :data:`unsubscribe_handlers`.

The message goes to SES as raw MIME (SESv2 ``SendEmail`` with ``Content.Raw``): the headers reach the
recipient as written, in AWS and in the local cloud's SES alike. See docs/email.md.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from lms import aws, keys
from lms.clock import utcnow
from lms.errors import ConfigurationError, ForbiddenError, ValidationError
from lms.expressions import item_absent, item_exists
from lms.settings import get_settings
from lms.table import Table

UNSUBSCRIBE_PATH = "/mail/unsubscribe"
ONE_CLICK = "List-Unsubscribe=One-Click"
DEFAULT_LINK_BASE = "http://localhost:3000"  # the local API's default port, when LMS_PUBLIC_URL is unset
_TOKEN_VERSION = "v1"
_MAX_TOKEN_LENGTH = 2048


@dataclass(frozen=True)
class Unsubscribe:
    """What the mail's unsubscribe link turns off: ``scope`` names a registered handler (e.g.
    ``"forum"``), ``scope_id`` the thing within it (e.g. the forum id)."""

    scope: str
    scope_id: str


class MailThrottledError(Exception):
    """SES throttled the send (rate or daily quota): transient, retried with backoff by the caller."""


class MailRejectedError(Exception):
    """SES refused the message (unverified sender, a sandbox recipient not verified, sending paused):
    an operator must act; retrying the same message will not help."""


_THROTTLED = frozenset({"TooManyRequestsException", "LimitExceededException", "ThrottlingException"})
_REJECTED = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "NotFoundException",
    }
)

UnsubscribeHandler = Callable[[Table, str, str], None]
# scope -> fn(table, user_id, scope_id); feature modules register theirs at import. A handler must be
# idempotent (a mail client may POST the one-click link more than once).
unsubscribe_handlers: dict[str, UnsubscribeHandler] = {}
# The modules that register handlers: imported before a token's scope is looked up, so the API
# process knows every scope without importing every feature up front. Add yours here.
HANDLER_MODULES: tuple[str, ...] = ("lms.reminder_mail", "lms.discussions.subscriptions")


def handler_for(scope: str) -> UnsubscribeHandler | None:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return unsubscribe_handlers.get(scope)


# --- the signed token ---------------------------------------------------------------------------


@functools.cache
def _secret_from_secrets_manager(arn: str) -> str:
    return str(aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def signing_key() -> bytes:
    """The unsubscribe-link key: ``LMS_MAIL_SECRET`` (local) or ``LMS_MAIL_SECRET_ARN`` (AWS)."""
    settings = get_settings()
    if settings.mail_secret:
        secret = settings.mail_secret
    elif settings.mail_secret_arn:
        secret = _secret_from_secrets_manager(settings.mail_secret_arn)
    else:
        raise ConfigurationError("No mail signing secret: set LMS_MAIL_SECRET or LMS_MAIL_SECRET_ARN.")
    return secret.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str) -> str:
    return _b64(hmac.new(signing_key(), f"{_TOKEN_VERSION}.{payload}".encode(), hashlib.sha256).digest())


def unsubscribe_token(user_id: str, unsubscribe: Unsubscribe) -> str:
    """``v1.<payload>.<signature>``: the payload is the user, scope and scope id (no expiry: an
    unsubscribe link in an old mail must still work)."""
    body = {"u": user_id, "s": unsubscribe.scope, "i": unsubscribe.scope_id}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{_TOKEN_VERSION}.{payload}.{_signature(payload)}"


@dataclass(frozen=True)
class UnsubscribeRequest:
    user_id: str
    scope: str
    scope_id: str


def read_unsubscribe_token(token: str) -> UnsubscribeRequest:
    """The token's claims; a malformed token is a ValidationError (400), a bad signature Forbidden (403)."""
    parts = token.split(".") if len(token) <= _MAX_TOKEN_LENGTH else []
    if len(parts) != 3 or parts[0] != _TOKEN_VERSION or not parts[1] or not parts[2]:
        raise ValidationError("This unsubscribe link is not one we sent.")
    _, payload, signature = parts
    if not hmac.compare_digest(signature, _signature(payload)):
        raise ForbiddenError("This unsubscribe link is not valid.")
    try:
        body = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise ValidationError("This unsubscribe link is not one we sent.") from error
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body[k] for k in "usi"):
        raise ValidationError("This unsubscribe link is not one we sent.")
    return UnsubscribeRequest(user_id=body["u"], scope=body["s"], scope_id=body["i"])


def unsubscribe_url(token: str) -> str:
    base = (get_settings().public_url or DEFAULT_LINK_BASE).rstrip("/")
    return f"{base}{UNSUBSCRIBE_PATH}?token={quote(token, safe='')}"


def unsubscribe(table: Table, token: str) -> UnsubscribeRequest:
    """Apply a one-click unsubscribe: verify the token, call the scope's registered handler."""
    request = read_unsubscribe_token(token)
    handler = handler_for(request.scope)
    if handler is None:
        raise ValidationError(f"Nothing to unsubscribe from in {request.scope!r}.")
    handler(table, request.user_id, request.scope_id)
    return request


# --- the message ----------------------------------------------------------------------------------


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    list_unsubscribe: str | None = None,
) -> EmailMessage:
    """The MIME message: text, with an HTML alternative; RFC 8058 headers with ``list_unsubscribe``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    if list_unsubscribe:
        message["List-Unsubscribe"] = f"<{list_unsubscribe}>"
        message["List-Unsubscribe-Post"] = ONE_CLICK
        text = f"{text.rstrip()}\n\n--\nUnsubscribe: {list_unsubscribe}\n"
        if html is not None:
            link = list_unsubscribe.replace("&", "&amp;").replace('"', "&quot;")
            html = f'{html}\n<hr><p><a href="{link}">Unsubscribe</a></p>\n'
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _deliver(message: EmailMessage, recipient: str) -> str:
    settings = get_settings()
    request: dict[str, Any] = {
        "FromEmailAddress": settings.mail_from,
        "Destination": {"ToAddresses": [recipient]},
        "Content": {"Raw": {"Data": message.as_bytes()}},
    }
    if settings.mail_configuration_set:
        request["ConfigurationSetName"] = settings.mail_configuration_set
    try:
        return str(aws.client("sesv2").send_email(**request)["MessageId"])
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in _THROTTLED:
            raise MailThrottledError(f"SES throttled the send: {code}") from error
        if code in _REJECTED:
            raise MailRejectedError(f"SES refused the message: {code}") from error
        raise


def send(
    table: Table,
    *,
    to_user_id: str,
    subject: str,
    text: str,
    html: str | None = None,
    unsubscribe: Unsubscribe | None = None,
    idempotency_key: str,
) -> bool:
    """Email the user; True when this call sent it.

    False (nothing sent) when the user is unknown or deactivated, or a mail with this
    ``idempotency_key`` was already sent. ``html`` must already be safe (sanitised) HTML.
    """
    user = table.get(keys.user(to_user_id), consistent=True)
    if user is None or not user.get("isActive", True) or not user.get("email"):
        return False
    marker_key = keys.sent_mail(idempotency_key)
    expires = utcnow() + timedelta(days=get_settings().mail_marker_days)
    marker = {
        **marker_key.as_item(),
        "userId": to_user_id,
        "subject": subject,
        "sentAt": utcnow().isoformat(),
        keys.TTL_ATTRIBUTE: int(expires.timestamp()),
    }
    if not table.put_if(marker, when=item_absent()):
        return False
    link = unsubscribe_url(unsubscribe_token(to_user_id, unsubscribe)) if unsubscribe else None
    message = build_message(
        sender=get_settings().mail_from,
        to=str(user["email"]),
        subject=subject,
        text=text,
        html=html,
        list_unsubscribe=link,
    )
    try:
        _deliver(message, str(user["email"]))
    except Exception:
        # Not sent: give the key back so the caller's retry sends it.
        table.delete_if(marker_key, when=item_exists())
        raise
    return True
