"""Verifiable certificates on the real certificate workflows (the real ASL on the local engine, the
real task handlers, the signing key in the local Secrets Manager read under the functions' declared
IAM): a completed course yields an Open Badges credential that verifies as an outside verifier would
(over HTTP: DID document, signature, status list), a refund flips its bit within the revocation run,
and concurrent revocations on one list all stick.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lms import aws, keys
from lms.credentials import status_list, verifier
from lms.credentials.keys import current_signing_key
from lms.table import Table
from tests.conftest import ApiClient
from tests.purchases import buy, execution, pay, states_entered, wait_for
from tests.workflow.test_certificate import complete, execution_arn, published_course
from tests.workflow.test_purchase import outcome, until


def enroll(student, course) -> str:
    """Buy and pay (the transaction and its PaymentIntent are written by the purchase run: waited
    for, as a loaded machine makes that take seconds)."""
    from lms import purchases
    from lms.entities import TransactionStatus

    transaction_id = str(buy(student.client, course.course_id)["transactionId"])
    if course.price_cents:

        def intent_ready() -> bool | None:
            found = purchases.get_transaction(Table(), transaction_id)
            return bool(found and found.payment_intent_id) or None

        until(intent_ready, timeout=60)
        pay(transaction_id)
    wait_for(transaction_id, TransactionStatus.COMPLETED, timeout=60)
    return transaction_id


def issued(student, course) -> dict[str, Any]:
    def listed() -> dict[str, Any] | None:
        items = student.client.get("/certificates").json()["items"]
        return next((c for c in items if c["courseId"] == course.course_id), None)

    return dict(until(listed, timeout=60))


def b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def payload_of(token: str) -> dict[str, Any]:
    return dict(json.loads(b64url(token.split(".")[1])))


def credential_of(client: ApiClient, certificate_id: str) -> str:
    response = client.get(f"/certificates/{certificate_id}/credential")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/vc+jwt")
    return response.text


def revocation_run(transaction_id: str) -> dict[str, Any]:
    from workflows.certificate import CERTIFICATE_REVOCATION
    from workflows.executions import execution_arn as arn

    name = arn(CERTIFICATE_REVOCATION, f"revoke-certificate-{transaction_id}")
    sfn = aws.client("stepfunctions")

    def started() -> bool | None:
        try:
            return sfn.describe_execution(executionArn=name)["status"] != "RUNNING" or None
        except sfn.exceptions.ExecutionDoesNotExist:
            return None

    until(started, timeout=60)
    described, _ = execution(name, timeout=60)
    return described


def test_a_completed_course_yields_a_credential_that_verifies_and_a_refund_revokes_it(
    new_user, demo, admin: ApiClient, anonymous: ApiClient, api_url: str, local_stripe
) -> None:
    course, lessons = published_course(demo, lessons=1, price_cents=2500)
    student = new_user()
    transaction_id = enroll(student, course)
    complete(student.client, lessons[0])
    certificate_id = issued(student, course)["certificateId"]
    described, history = execution(
        execution_arn(f"certificate-{student.user_id}-{course.course_id}"), timeout=30
    )
    assert outcome(described) == "Issued"
    assert states_entered(history) == [  # signing added no state
        "VerifyCompletion",
        "IsEligible",
        "RenderCertificate",
        "RecordCertificate",
        "WasRecorded",
        "Notify",
        "Issued",
    ]

    token = credential_of(student.client, certificate_id)
    assert credential_of(admin, certificate_id) == token
    payload = payload_of(token)
    assert payload["credentialSubject"]["achievement"]["name"] == course.title
    assert payload["issuer"]["id"] == "did:web:" + api_url.removeprefix("http://").replace(":", "%3A")
    assert "@" not in json.dumps(payload["credentialSubject"])  # no email in clear

    # A second, independent check: raw Ed25519 against the key the published DID document names.
    document = anonymous.get("/.well-known/did.json").json()
    header_segment, payload_segment, signature = token.split(".")
    kid = json.loads(b64url(header_segment))["kid"]
    (method,) = [m for m in document["verificationMethod"] if m["id"] == kid]
    Ed25519PublicKey.from_public_bytes(b64url(method["publicKeyJwk"]["x"])).verify(
        b64url(signature), f"{header_segment}.{payload_segment}".encode()
    )

    before = verifier.verify(token)  # over HTTP, as any verifier: did.json, then the status list
    assert before.valid, before.checks

    refunded = admin.post(f"/transactions/{transaction_id}/refund", json={"reason": "Customer asked"})
    assert refunded.status_code == 200, refunded.text
    run = revocation_run(transaction_id)
    assert run["status"] == "SUCCEEDED" and outcome(run) == "Revoked"

    # Within that one run: the status list the credential names already has its bit set.
    after = verifier.verify(token)
    assert not after.valid and after.revoked, after.checks
    status = payload["credentialStatus"]
    served = requests.get(status["statusListCredential"], timeout=10)
    assert served.headers["Cache-Control"] == "public, max-age=300"
    bits = status_list.decode(payload_of(served.text)["credentialSubject"]["encodedList"])
    assert status_list.is_set(bits, int(status["statusListIndex"]))
    # The credential itself is unchanged (a VC is never re-issued to revoke it).
    assert credential_of(student.client, certificate_id) == token


def test_two_concurrent_refunds_on_one_list_both_stick(
    new_user, demo, admin: ApiClient, local_stripe
) -> None:
    course, lessons = published_course(demo, lessons=1, price_cents=2500)
    students = [new_user(), new_user()]
    transactions = [enroll(student, course) for student in students]
    tokens = []
    for student in students:
        complete(student.client, lessons[0])
        tokens.append(credential_of(student.client, issued(student, course)["certificateId"]))
    entries = [payload_of(token)["credentialStatus"] for token in tokens]
    assert entries[0]["statusListCredential"] == entries[1]["statusListCredential"], "one list"
    assert entries[0]["statusListIndex"] != entries[1]["statusListIndex"]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda t: admin.post(f"/transactions/{t}/refund", json={}), transactions))
    assert [a.status_code for a in answers] == [200, 200]
    assert [outcome(revocation_run(t)) for t in transactions] == ["Revoked", "Revoked"]
    for token in tokens:
        result = verifier.verify(token)
        assert result.revoked, result.checks


def test_concurrent_revocations_on_one_list_lose_no_bit_and_set_each_once(local_cloud) -> None:
    """Sixteen revocations at once on one list, as sixteen RevokeCertificate environments would do
    them: every bit is in the served list afterwards, and repeating one changes nothing."""
    from lms.clock import new_id
    from lms.credentials import badge

    table = Table()
    signing_key = current_signing_key()
    issuer = badge.issuer_for("http://127.0.0.1:9")
    entries = [status_list.allocate(table, new_id(), issuer, signing_key) for _ in range(16)]
    (list_id,) = {entry.list_id for entry in entries}
    assert len({entry.index for entry in entries}) == 16

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        first = list(pool.map(lambda e: status_list.revoke(table, e, signing_key), entries))
    assert first == [True] * 16
    stored = table.get(keys.status_list(list_id), consistent=True)
    assert stored is not None
    assert {entry.index for entry in entries} <= status_list.revoked_indexes(stored)
    assert stored["builtVersion"] == stored["version"]
    bits = status_list.decode(payload_of(stored["statusCredential"])["credentialSubject"]["encodedList"])
    assert all(status_list.is_set(bits, entry.index) for entry in entries)

    assert status_list.revoke(table, entries[0], signing_key) is False  # set exactly once
    again = table.get(keys.status_list(list_id), consistent=True)
    assert again is not None and again["version"] == stored["version"]


def test_a_revocation_that_fails_after_its_work_is_retried_without_a_second_bit(
    new_user, demo, admin: ApiClient, local_cloud, local_stripe
) -> None:
    course, lessons = published_course(demo, lessons=1, price_cents=2500)
    student = new_user()
    transaction_id = enroll(student, course)
    complete(student.client, lessons[0])
    token = credential_of(student.client, issued(student, course)["certificateId"])
    status = payload_of(token)["credentialStatus"]
    list_key = keys.status_list(status["statusListCredential"].rpartition("/")[2])
    local_cloud.runtime.inject_fault(
        "lms-certificate-revocation-revoke-certificate",
        "Lambda.ServiceException",
        "the answer was lost",
        count=1,
        match={"transactionId": transaction_id},
        after_work=True,
    )
    assert admin.post(f"/transactions/{transaction_id}/refund", json={}).status_code == 200
    run = revocation_run(transaction_id)
    assert run["status"] == "SUCCEEDED" and outcome(run) == "AlreadyRevoked"  # the retry found it done
    stored = Table().get(list_key, consistent=True)
    assert stored is not None and int(status["statusListIndex"]) in status_list.revoked_indexes(stored)
    assert verifier.verify(token).revoked


def test_an_issuance_retried_after_its_record_keeps_one_index(new_user, demo, local_cloud) -> None:
    course, lessons = published_course(demo, lessons=1)
    student = new_user()
    enroll(student, course)
    name = f"certificate-{student.user_id}-{course.course_id}"
    local_cloud.runtime.inject_fault(
        "lms-certificate-record-certificate",
        "Lambda.ServiceException",
        "the answer was lost",
        count=1,
        match={"executionName": name},
        after_work=True,
    )
    complete(student.client, lessons[0])
    described, _ = execution(execution_arn(name), timeout=60)
    assert described["status"] == "SUCCEEDED" and outcome(described) == "Issued"
    certificate_id = issued(student, course)["certificateId"]
    token = credential_of(student.client, certificate_id)
    entry = status_list.status_entry(Table(), certificate_id)
    assert entry is not None and payload_of(token)["credentialStatus"]["statusListIndex"] == str(entry.index)
    assert until(lambda: verifier.verify(token).valid or None, timeout=5)
