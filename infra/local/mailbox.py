"""The local SES's sent mail, for people: ``lms mail`` and the console's mail page read it here.

moto keeps every message its SES accepted in the backend's ``sent_messages`` (the internal API
moto documents for checking sent mail). The local cloud serves them at ``GET /_local/mail``
(newest first, as parsed MIME: from, to, subject, date, the RFC 8058 headers, text and HTML), so
a process other than the local cloud's (the CLI, the API under ``lms dev``) reads them over HTTP
with :func:`fetch`. Nothing here exists in AWS: there, SES delivers the mail.
"""

from __future__ import annotations

import email
import json
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any
from urllib.request import urlopen

MAIL_PATH = "/_local/mail"


@dataclass(frozen=True)
class SentMail:
    message_id: str  # SES's MessageId
    sender: str
    to: list[str]
    subject: str
    date: str
    list_unsubscribe: str | None
    list_unsubscribe_post: str | None
    text: str
    html: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "date": self.date,
            "listUnsubscribe": self.list_unsubscribe,
            "listUnsubscribePost": self.list_unsubscribe_post,
            "text": self.text,
            "html": self.html,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SentMail:
        return cls(
            message_id=str(data["messageId"]),
            sender=str(data.get("from") or ""),
            to=[str(address) for address in data.get("to") or []],
            subject=str(data.get("subject") or ""),
            date=str(data.get("date") or ""),
            list_unsubscribe=data.get("listUnsubscribe"),
            list_unsubscribe_post=data.get("listUnsubscribePost"),
            text=str(data.get("text") or ""),
            html=data.get("html"),
        )


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body((subtype,))
    return str(part.get_content()) if part is not None else None


def parse(message_id: str, source: str, destinations: list[str], raw: str | None, **simple: Any) -> SentMail:
    """A raw MIME message (what lms.mail sends), or a simple one (subject and body only)."""
    if raw is None:
        return SentMail(
            message_id,
            source,
            destinations,
            simple.get("subject", ""),
            "",
            None,
            None,
            simple.get("body", ""),
            None,
        )
    message = email.message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return SentMail(
        message_id=message_id,
        sender=str(message.get("From") or source),
        to=[str(address) for address in destinations],
        subject=str(message.get("Subject") or ""),
        date=str(message.get("Date") or ""),
        list_unsubscribe=str(message["List-Unsubscribe"]) if message["List-Unsubscribe"] else None,
        list_unsubscribe_post=str(message["List-Unsubscribe-Post"])
        if message["List-Unsubscribe-Post"]
        else None,
        text=_body(message, "plain") or "",
        html=_body(message, "html"),
    )


def sent_mail(account_id: str, region: str) -> list[SentMail]:
    """Every message the local SES accepted, newest first (in this process: the local cloud's)."""
    from moto.ses.models import ses_backends

    found = []
    for message in reversed(ses_backends[account_id][region].sent_messages):
        raw = getattr(message, "raw_data", None)
        destinations = getattr(message, "destinations", [])
        if isinstance(destinations, dict):  # a simple message: {"ToAddresses": [...], ...}
            destinations = [address for addresses in destinations.values() for address in addresses]
        found.append(
            parse(
                message.id,
                str(message.source),
                list(destinations),
                raw,
                subject=getattr(message, "subject", ""),
                body=getattr(message, "body", ""),
            )
        )
    return found


def serve(account_id: str, region: str) -> bytes:
    return json.dumps({"items": [mail.as_json() for mail in sent_mail(account_id, region)]}).encode()


def fetch(cloud_endpoint: str, timeout: float = 10) -> list[SentMail]:
    """The local cloud's sent mail over HTTP, newest first."""
    with urlopen(f"{cloud_endpoint.rstrip('/')}{MAIL_PATH}", timeout=timeout) as response:  # noqa: S310
        return [SentMail.from_json(item) for item in json.loads(response.read())["items"]]
