"""lms.mail without the network: the MIME message and its RFC 8058 headers, the signed token."""

from __future__ import annotations

import base64
import email
import json
from email import policy
from urllib.parse import parse_qs, urlsplit

import pytest

from lms import mail
from lms.errors import ConfigurationError, ForbiddenError, ValidationError


def _parsed(message: mail.EmailMessage) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_a_mail_with_unsubscribe_carries_the_rfc_8058_headers_and_the_link_in_both_bodies() -> None:
    link = mail.unsubscribe_url(mail.unsubscribe_token("user-1", mail.Unsubscribe("forum", "f-1")))
    message = _parsed(
        mail.build_message(
            sender="LMS <no-reply@lms.localhost>",
            to="ada@example.com",
            subject="New post in General",
            text="Hello",
            html="<p>Hello</p>",
            list_unsubscribe=link,
        )
    )
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.startswith("http") and urlsplit(link).path == "/mail/unsubscribe"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Hello" in text.get_content() and link in text.get_content()
    assert f'href="{link}"' in html.get_content()
    assert message["From"] == "LMS <no-reply@lms.localhost>" and message["To"] == "ada@example.com"
    assert message["Message-ID"].endswith("@lms.localhost>")


def test_a_mail_without_unsubscribe_has_no_list_headers_and_only_text() -> None:
    message = _parsed(
        mail.build_message(sender="no-reply@lms.localhost", to="a@example.com", subject="S", text="Body")
    )
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "Body"


def test_non_ascii_subject_and_body_survive_the_round_trip() -> None:
    message = _parsed(
        mail.build_message(
            sender="no-reply@lms.localhost", to="a@example.com", subject="Café ✓", text="Grüße"
        )
    )
    assert message["Subject"] == "Café ✓"
    assert message.get_content().strip() == "Grüße"


def test_the_token_round_trips_and_survives_the_url() -> None:
    token = mail.unsubscribe_token("user-1", mail.Unsubscribe("forum", "forum-9"))
    from_link = parse_qs(urlsplit(mail.unsubscribe_url(token)).query)["token"][0]
    assert mail.read_unsubscribe_token(from_link) == mail.UnsubscribeRequest("user-1", "forum", "forum-9")


def _tampered(token: str, **changes: str) -> str:
    version, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    return f"{version}.{forged}.{signature}"


@pytest.mark.parametrize("field", ["u", "s", "i"])
def test_a_token_whose_claims_were_changed_is_refused(field: str) -> None:
    token = mail.unsubscribe_token("user-1", mail.Unsubscribe("forum", "forum-9"))
    with pytest.raises(ForbiddenError):
        mail.read_unsubscribe_token(_tampered(token, **{field: "someone-else"}))


def test_a_token_signed_with_another_key_is_refused(settings_env: pytest.MonkeyPatch) -> None:
    token = mail.unsubscribe_token("user-1", mail.Unsubscribe("forum", "forum-9"))
    settings_env.setenv("LMS_MAIL_SECRET", "another-key-entirely")
    from lms.settings import reset_settings

    reset_settings()
    with pytest.raises(ForbiddenError):
        mail.read_unsubscribe_token(token)


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "v1..", "v2.abc.def", "v1.abc", "v1.a.b.c", "x" * 5000, "v1.%%%.sig"],
)
def test_a_malformed_token_is_a_validation_error_never_a_crash(token: str) -> None:
    with pytest.raises((ValidationError, ForbiddenError)):
        mail.read_unsubscribe_token(token)


def test_a_validly_signed_payload_that_is_not_our_json_is_a_validation_error() -> None:
    payload = base64.urlsafe_b64encode(b'["not", "claims"]').decode().rstrip("=")
    token = f"v1.{payload}.{mail._signature(payload)}"
    with pytest.raises(ValidationError):
        mail.read_unsubscribe_token(token)


def test_unsubscribe_calls_the_scope_handler_once_with_user_and_scope_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, str]] = []
    monkeypatch.setitem(mail.unsubscribe_handlers, "test-scope", lambda _t, u, i: calls.append((u, i)))
    token = mail.unsubscribe_token("user-7", mail.Unsubscribe("test-scope", "thing-3"))
    mail.unsubscribe(None, token)  # type: ignore[arg-type]
    assert calls == [("user-7", "thing-3")]


def test_an_unknown_scope_is_refused_without_calling_anything() -> None:
    token = mail.unsubscribe_token("user-7", mail.Unsubscribe("no-such-scope", "x"))
    with pytest.raises(ValidationError):
        mail.unsubscribe(None, token)  # type: ignore[arg-type]


def test_without_a_secret_signing_is_a_configuration_error(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.delenv("LMS_MAIL_SECRET", raising=False)
    settings_env.delenv("LMS_MAIL_SECRET_ARN", raising=False)
    from lms.settings import reset_settings

    reset_settings()
    with pytest.raises(ConfigurationError):
        mail.unsubscribe_token("u", mail.Unsubscribe("forum", "f"))


def test_lms_mail_lists_newest_first_and_shows_one_with_its_headers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.local import mailbox
    from infra.local.cli import main

    raw = mail.build_message(
        sender="LMS <no-reply@lms.localhost>",
        to="ada@example.com",
        subject="Waiting for your decision",
        text="Body text",
        list_unsubscribe="http://localhost:3000/mail/unsubscribe?token=t",
    ).as_string()
    sent = [
        mailbox.parse("id-2", "no-reply@lms.localhost", ["ada@example.com"], raw),
        mailbox.parse("id-1", "no-reply@lms.localhost", ["bob@example.com"], None, subject="Old", body="b"),
    ]
    monkeypatch.setattr(mailbox, "fetch", lambda endpoint, timeout=10: sent)
    assert main(["mail", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id-2") and "Waiting for your decision" in lines[0]
    assert lines[1].startswith("id-1")
    assert main(["mail", "list", "--to", "bob@"]) == 0
    assert "id-2" not in capsys.readouterr().out
    assert main(["mail", "show", "id-2"]) == 0
    shown = capsys.readouterr().out
    assert "List-Unsubscribe: <http://localhost:3000/mail/unsubscribe?token=t>" in shown
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in shown and "Body text" in shown
    assert main(["mail", "show", "nope"]) == 1
