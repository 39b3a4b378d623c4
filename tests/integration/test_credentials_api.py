"""The credentials routes over HTTP (docs/api.md, "Credentials"): who may fetch a certificate's
credential, the public status lists and DID document with the cache headers verifiers rely on, and
one GetItem per status list (what a verifier polls). The certificate is written here with a credential
issued by the product's own code (lms.credentials.issuing); the workflow path is in
tests/workflow/test_certificate_credential.py."""

from __future__ import annotations

import base64
import json
from typing import Any

from lms import keys
from lms.clock import new_id, utcnow
from lms.credentials import did, issuing, verifier
from lms.entities import Certificate
from lms.table import Table
from tests.conftest import ApiClient


def b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def certificate_with_credential(user_id: str, api_url: str) -> tuple[str, str]:
    """(certificate id, its VC-JWT), stored as RecordCertificate stores them."""
    certificate_id = new_id()
    certificate = Certificate(
        certificate_id=certificate_id,
        user_id=user_id,
        course_id=new_id(),
        holder_name="Test student",
        course_title="Credentials 101",
        instructor_name="Ivan Instructor",
        issued_at=utcnow(),
        verification_code=new_id(),
        pdf_key=keys.certificate_pdf(certificate_id),
        execution_name="by-hand",
        execution_arn="arn:by-hand",
        course_description="Verifiable, offline.",
    )
    table = Table()
    token = issuing.issue(table, certificate, api_url)
    stored = certificate.model_copy(update={"credential": token})
    table.put({**keys.certificate(certificate_id).as_item(), **stored.attributes()})
    return certificate_id, token


def payload_of(token: str) -> dict[str, Any]:
    return dict(json.loads(b64url(token.split(".")[1])))


def test_the_holder_and_admins_fetch_the_credential_others_do_not_learn_it_exists(
    new_user, admin: ApiClient, anonymous: ApiClient, api_url: str
) -> None:
    holder = new_user()
    certificate_id, token = certificate_with_credential(holder.user_id, api_url)
    path = f"/certificates/{certificate_id}/credential"

    for client in (holder.client, admin):
        response = client.get(path)
        assert response.status_code == 200 and response.text == token
        assert response.headers["Content-Type"].startswith("application/vc+jwt")
        assert response.headers["Cache-Control"] == "private, no-store"
    other = new_user().client.get(path)
    assert other.status_code == 404 and other.json()["error"]["code"] == "NOT_FOUND"
    unknown = holder.client.get(f"/certificates/{new_id()}/credential")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
    assert anonymous.get(path).status_code == 401
    assert holder.client.get(f"/certificates/{'x' * 65}/credential").status_code == 400


def test_the_status_list_is_public_signed_and_cacheable_in_one_getitem(
    new_user, anonymous: ApiClient, api_url: str, dynamodb_calls
) -> None:
    holder = new_user()
    _, token = certificate_with_credential(holder.user_id, api_url)
    list_url = payload_of(token)["credentialStatus"]["statusListCredential"]
    assert list_url.startswith(f"{api_url}/credentials/status/")

    dynamodb_calls.reset()
    response = anonymous.get(list_url.removeprefix(api_url))
    assert response.status_code == 200
    assert dynamodb_calls.operations == ["GetItem"]
    assert response.headers["Content-Type"].startswith("application/vc+jwt")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    listed = payload_of(response.text)
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["issuer"]["id"] == payload_of(token)["issuer"]["id"]
    assert anonymous.get(f"/credentials/status/{new_id()}").status_code == 404


def test_the_did_document_publishes_the_key_that_signed_and_the_credential_verifies(
    new_user, anonymous: ApiClient, api_url: str
) -> None:
    _, token = certificate_with_credential(new_user().user_id, api_url)
    kid = json.loads(b64url(token.split(".")[0]))["kid"]
    for path in ("/.well-known/did.json", "/did.json"):
        response = anonymous.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=300"
        document = response.json()
        assert document["id"] == did.did_web(api_url)
        assert kid in document["assertionMethod"]
        assert all("d" not in m["publicKeyJwk"] for m in document["verificationMethod"])
    result = verifier.verify(token)  # over HTTP against this API, as any verifier
    assert result.valid, result.checks


def test_the_public_verify_answer_links_the_credential(
    new_user, demo, anonymous: ApiClient, api_url: str
) -> None:
    from lms.certificates import certificate_items

    certificate_id = new_id()
    certificate = Certificate(
        certificate_id=certificate_id,
        user_id=new_user().user_id,
        course_id=new_id(),
        holder_name="Test student",
        course_title="Credentials 101",
        instructor_name="",
        issued_at=utcnow(),
        verification_code=new_id(),
        pdf_key=keys.certificate_pdf(certificate_id),
        execution_name="by-hand",
        execution_arn="arn:by-hand",
    )
    for item in certificate_items(certificate):
        Table().put(item)
    answer = anonymous.get(f"/certificates/verify/{certificate.verification_code}").json()
    assert answer["credentialUrl"] == f"{api_url}/certificates/{certificate_id}/credential"
