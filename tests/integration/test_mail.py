"""Email through the local SES: sent, read back, never to a deactivated user, never twice per key; the
one-click unsubscribe link through the API; SES allowed only to functions that declare mail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError

from infra.local import mailbox
from lms import keys, mail, reminder_mail
from lms.settings import get_settings, reset_settings
from lms.table import Table
from tests.conftest import ApiClient, NewUser, api_client


def inbox(local_cloud: Any, address: str) -> list[mailbox.SentMail]:
    """What the local SES accepted for ``address`` (read over HTTP, as ``lms mail`` does)."""
    return [m for m in mailbox.fetch(local_cloud.endpoint) if address in m.to]


def send(user_id: str, key: str | None = None, **overrides: Any) -> bool:
    message: dict[str, Any] = {
        "subject": "Your course was approved",
        "text": "Hello from the LMS.",
        "idempotency_key": key or uuid.uuid4().hex,
    }
    return mail.send(Table(), to_user_id=user_id, **{**message, **overrides})


def token_of(sent: mailbox.SentMail) -> str:
    assert sent.list_unsubscribe is not None
    return parse_qs(urlsplit(sent.list_unsubscribe.strip("<>")).query)["token"][0]


def test_a_mail_goes_through_the_local_ses_with_its_unsubscribe_headers(
    local_cloud: Any, new_user: Any
) -> None:
    user: NewUser = new_user()
    sent = send(
        user.user_id,
        html="<p>Hello from the <b>LMS</b>.</p>",
        unsubscribe=mail.Unsubscribe(reminder_mail.TASK_REMINDERS, "publish-approval"),
    )
    assert sent is True
    [received] = inbox(local_cloud, user.email)
    assert received.subject == "Your course was approved"
    assert received.sender == get_settings().mail_from
    assert "Hello from the LMS." in received.text and "<b>LMS</b>" in (received.html or "")
    assert received.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    assert received.list_unsubscribe and "/mail/unsubscribe?token=" in received.list_unsubscribe
    assert mail.read_unsubscribe_token(token_of(received)) == mail.UnsubscribeRequest(
        user.user_id, reminder_mail.TASK_REMINDERS, "publish-approval"
    )


def test_the_same_idempotency_key_sends_one_mail(local_cloud: Any, new_user: Any) -> None:
    user: NewUser = new_user()
    key = uuid.uuid4().hex
    assert send(user.user_id, key) is True
    assert send(user.user_id, key) is False
    assert send(user.user_id, key, subject="A retry with other words") is False
    assert len(inbox(local_cloud, user.email)) == 1


def test_a_deactivated_user_gets_nothing(local_cloud: Any, new_user: Any, admin: ApiClient) -> None:
    user: NewUser = new_user()
    assert admin.patch(f"/admin/users/{user.user_id}", json={"isActive": False}).status_code == 200
    key = uuid.uuid4().hex
    assert send(user.user_id, key) is False
    assert inbox(local_cloud, user.email) == []
    # Nothing was spent: reactivated, the same key sends.
    assert admin.patch(f"/admin/users/{user.user_id}", json={"isActive": True}).status_code == 200
    assert send(user.user_id, key) is True


def test_an_unknown_user_gets_nothing(local_cloud: Any) -> None:
    assert send(f"no-such-user-{uuid.uuid4().hex}") is False


@pytest.fixture
def unverified_sender() -> Iterator[None]:
    import os

    previous = os.environ.get("LMS_MAIL_FROM")
    os.environ["LMS_MAIL_FROM"] = "LMS <someone@not-verified.example>"
    reset_settings()
    yield
    if previous is None:
        os.environ.pop("LMS_MAIL_FROM", None)
    else:
        os.environ["LMS_MAIL_FROM"] = previous
    reset_settings()


def test_ses_refusing_the_sender_raises_and_gives_the_key_back(
    local_cloud: Any, new_user: Any, unverified_sender: None
) -> None:
    user: NewUser = new_user()
    key = uuid.uuid4().hex
    with pytest.raises(mail.MailRejectedError):
        send(user.user_id, key)
    assert Table().get(keys.sent_mail(key)) is None  # the retry may send it
    assert inbox(local_cloud, user.email) == []


def test_ses_is_refused_to_a_role_that_did_not_declare_mail(local_cloud: Any, api_url: str) -> None:
    # The API's role declares no mail: the local cloud refuses its SendEmail as IAM would.
    with pytest.raises(ClientError) as refused:
        api_client("sesv2").send_email(
            FromEmailAddress=get_settings().mail_from,
            Destination={"ToAddresses": ["someone@example.com"]},
            Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}},
        )
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "ses:SendEmail" in str(refused.value)


# --- the unsubscribe link through the API ----------------------------------------------------------


def mailed_token(user: NewUser, kind: str) -> str:
    assert send(user.user_id, unsubscribe=mail.Unsubscribe(reminder_mail.TASK_REMINDERS, kind))
    return mail.unsubscribe_token(user.user_id, mail.Unsubscribe(reminder_mail.TASK_REMINDERS, kind))


def opted_out(user_id: str, kind: str) -> bool:
    return Table().get(keys.mail_opt_out(user_id, reminder_mail.TASK_REMINDERS, kind)) is not None


def test_one_click_unsubscribe_through_the_api_calls_the_scope_handler(
    local_cloud: Any, anonymous: ApiClient, new_user: Any
) -> None:
    user: NewUser = new_user()
    kind = f"kind-{uuid.uuid4().hex[:6]}"
    assert send(user.user_id, unsubscribe=mail.Unsubscribe(reminder_mail.TASK_REMINDERS, kind))
    [received] = inbox(local_cloud, user.email)
    link = urlsplit(received.list_unsubscribe.strip("<>") if received.list_unsubscribe else "")
    # What a mail client does (RFC 8058): POST the link with the one-click form body, no login.
    response = anonymous.post(
        f"{link.path}?{link.query}",
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"unsubscribed": True, "scope": reminder_mail.TASK_REMINDERS, "scopeId": kind}
    assert opted_out(user.user_id, kind)
    # Again (a client retrying): still fine, nothing new.
    again = anonymous.post(
        f"{link.path}?{link.query}",
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert again.status_code == 200, again.text


def test_the_confirmation_page_changes_nothing_and_its_form_unsubscribes(
    anonymous: ApiClient, new_user: Any
) -> None:
    user: NewUser = new_user()
    kind = f"kind-{uuid.uuid4().hex[:6]}"
    token = mailed_token(user, kind)
    page = anonymous.get("/mail/unsubscribe", params={"token": token})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<form method="post"' in page.text and "Unsubscribe" in page.text
    assert not opted_out(user.user_id, kind)  # a link scanner's GET unsubscribes nobody
    pressed = anonymous.post(
        "/mail/unsubscribe",
        params={"token": token},
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert pressed.status_code == 200 and "You will not get these emails" in pressed.text
    assert opted_out(user.user_id, kind)


def _forged(token: str) -> str:
    version, payload, signature = token.split(".")
    return f"{version}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_tokens_are_refused_and_change_nothing(anonymous: ApiClient, new_user: Any, method: str) -> None:
    user: NewUser = new_user()
    kind = f"kind-{uuid.uuid4().hex[:6]}"
    token = mailed_token(user, kind)
    cases = {
        _forged(token): 403,
        "not-a-token": 400,
        "v1.bm90IGpzb24.c2ln": 403,
        "": 400,
        "x" * 3000: 400,
    }
    for bad, status in cases.items():
        response = anonymous.request(method, "/mail/unsubscribe", params={"token": bad})
        assert response.status_code == status, (bad[:20], response.text)
        assert response.json()["error"]["code"] in ("VALIDATION_ERROR", "FORBIDDEN")
    missing = anonymous.request(method, "/mail/unsubscribe")
    assert missing.status_code == 400
    unknown_scope = mail.unsubscribe_token(user.user_id, mail.Unsubscribe("no-such-scope", "x"))
    assert anonymous.request(method, "/mail/unsubscribe", params={"token": unknown_scope}).status_code == 400
    assert not opted_out(user.user_id, kind)


def test_a_json_body_is_still_refused_unless_it_is_json(anonymous: ApiClient, new_user: Any) -> None:
    user: NewUser = new_user()
    token = mailed_token(user, f"kind-{uuid.uuid4().hex[:6]}")
    response = anonymous.post(
        "/mail/unsubscribe",
        params={"token": token},
        data="{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    plain = anonymous.post(
        "/mail/unsubscribe", params={"token": token}, data="x", headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415


def test_one_click_unsubscribe_costs_one_write(
    anonymous: ApiClient, new_user: Any, dynamodb_calls: Any
) -> None:
    user: NewUser = new_user()
    token = mailed_token(user, f"kind-{uuid.uuid4().hex[:6]}")
    dynamodb_calls.reset()
    response = anonymous.post("/mail/unsubscribe", params={"token": token})
    assert response.status_code == 200, response.text
    assert dynamodb_calls.operations == ["PutItem"]  # the token is checked without reading anything
