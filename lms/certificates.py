"""Certificates: who may get one, recording it once, revoking it, and the public verification.

The certificate workflow (``state-machines/certificate.asl.json``) runs :func:`verify_completion`,
renders and stores the PDF (:mod:`lms.certificate_pdf`, packaged with that one function), then
:func:`record_certificate`. A certificate is three items written in one transaction: the certificate,
the student's listing entry for the course (at most one per student and course: the "issued once"
guard) and the code lookup the public route reads (holder name, course, date and status on it, so a
verification is one GetItem).

Verification codes are 160 random bits (base32, 32 characters): unguessable, and what the QR code on
the PDF carries.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from lms import keys, throttle
from lms.clock import isoformat, new_id, utcnow
from lms.credentials import identity
from lms.entities import Certificate, CertificateStatus, Course, Enrollment, EnrollmentStatus, User
from lms.errors import NotFoundError
from lms.expressions import Update, eq, item_absent, item_exists
from lms.settings import get_settings
from lms.table import Change, Item, Put, Table, Write

CODE_BYTES = 20  # 160 bits, above the 128 the issue asks for


def new_verification_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode().rstrip("=")


class Outcome:
    """Business outcomes of an issuance (the execution's ``result.outcome``)."""

    ISSUED = "Issued"
    ALREADY_ISSUED = "AlreadyIssued"
    NOT_COMPLETED = "CourseNotCompleted"
    ENROLLMENT_NOT_ACTIVE = "EnrollmentNotActive"


_REASONS = {
    Outcome.ISSUED: "The course is completed; the certificate is issued.",
    Outcome.ALREADY_ISSUED: "A certificate for this course exists already.",
    Outcome.NOT_COMPLETED: "Not every lesson of the course is completed.",
    Outcome.ENROLLMENT_NOT_ACTIVE: "The enrollment is not active (the purchase was refunded).",
}


def describe_outcome(outcome: str) -> str:
    return _REASONS[outcome]


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    outcome: str
    reason: str
    certificate: Certificate | None = None


def verify_completion(
    table: Table, *, user_id: str, course_id: str, execution_name: str, execution_arn: str
) -> Eligibility:
    """VerifyCompletion: an active enrollment whose completion was reached, and no certificate yet.

    The eligible answer carries the new certificate (id, code, names, issue date), so a retried
    render prints the same one. The execution is written on the enrollment either way, so ops find
    the run from the student and course.
    """
    enrollment_key, listing_key = (
        keys.enrollment(user_id, course_id),
        keys.user_certificate(user_id, course_id),
    )
    found = table.batch_get([enrollment_key, listing_key, keys.course(course_id), keys.user(user_id)])
    enrollment_item = found.get(enrollment_key)
    eligibility = _eligibility(found, enrollment_item, listing_key)
    if eligibility is None:
        course = Course.from_item(found[keys.course(course_id)])
        holder = User.from_item(found[keys.user(user_id)])
        instructor_item = table.get(keys.user(course.instructor_id))
        instructor = User.from_item(instructor_item) if instructor_item else None
        certificate_id = new_id()
        certificate = Certificate(
            certificate_id=certificate_id,
            user_id=user_id,
            course_id=course_id,
            holder_name=f"{holder.first_name} {holder.last_name}",
            course_title=course.title,
            instructor_name=f"{instructor.first_name} {instructor.last_name}" if instructor else "",
            issued_at=utcnow(),
            verification_code=new_verification_code(),
            pdf_key=keys.certificate_pdf(certificate_id),
            course_description=course.description,
            holder_identity_hash=identity.identity_hash(holder.email, salt := identity.new_salt()),
            holder_identity_salt=salt,
            execution_name=execution_name,
            execution_arn=execution_arn,
        )
        eligibility = Eligibility(True, Outcome.ISSUED, describe_outcome(Outcome.ISSUED), certificate)
    if enrollment_item is not None:
        outcome = {} if eligibility.eligible else {"certificateOutcome": eligibility.outcome}
        _note_on_enrollment(
            table,
            enrollment_key,
            {"certificateExecutionName": execution_name, "certificateExecutionArn": execution_arn, **outcome},
        )
    return eligibility


def _eligibility(
    found: dict[keys.Key, Item], enrollment: Item | None, listing: keys.Key
) -> Eligibility | None:
    if enrollment is None or not Enrollment.is_active_item(enrollment):
        return _refusal(Outcome.ENROLLMENT_NOT_ACTIVE)
    if listing in found:
        return _refusal(Outcome.ALREADY_ISSUED)
    if not enrollment.get("isCompleted"):
        return _refusal(Outcome.NOT_COMPLETED)
    return None


def _refusal(outcome: str) -> Eligibility:
    return Eligibility(False, outcome, describe_outcome(outcome))


def _note_on_enrollment(table: Table, key: keys.Key, values: dict[str, str]) -> None:
    table.update(key, Update().set(values), when=item_exists())


def certificate_items(certificate: Certificate) -> tuple[Item, Item, Item]:
    """(the certificate, the student's listing entry, the public code lookup)."""
    attributes = certificate.attributes()
    listing = {
        name: attributes[name]
        for name in ("certificateId", "courseId", "courseTitle", "issuedAt", "status", "verificationCode")
    }
    public = {
        name: attributes[name]
        for name in ("certificateId", "holderName", "courseTitle", "issuedAt", "status")
    }
    return (
        {**keys.certificate(certificate.certificate_id).as_item(), **attributes},
        {**keys.user_certificate(certificate.user_id, certificate.course_id).as_item(), **listing},
        {**keys.certificate_code(certificate.verification_code).as_item(), **public},
    )


def record_certificate(
    table: Table, certificate: Certificate, *, pdf_bytes: int, credential: str | None = None
) -> str:
    """RecordCertificate: the three items and the enrollment's note in one transaction.

    ``credential`` (the signed VC-JWT, :mod:`lms.credentials.issuing`) is stored on the certificate
    item only. The enrollment must still be active (a refund that revoked it meanwhile wins: nothing
    is issued), and the student's listing entry must not exist (one certificate per student and
    course). A retry of a write that already succeeded finds its own certificate and reports it issued.
    """
    certificate = certificate.model_copy(update={"pdf_bytes": pdf_bytes, "credential": credential})
    writes: list[Write] = [Put(item, when=item_absent()) for item in certificate_items(certificate)]
    writes.append(
        Change(
            keys.enrollment(certificate.user_id, certificate.course_id),
            Update().set(certificateId=certificate.certificate_id, certificateOutcome=Outcome.ISSUED),
            when=eq("status", EnrollmentStatus.ACTIVE.value),
        )
    )
    if table.transact_if(writes):
        return Outcome.ISSUED
    listing = table.get(keys.user_certificate(certificate.user_id, certificate.course_id), consistent=True)
    if listing is not None:
        same = listing.get("certificateId") == certificate.certificate_id
        return Outcome.ISSUED if same else Outcome.ALREADY_ISSUED
    return Outcome.ENROLLMENT_NOT_ACTIVE


# --- revocation ----------------------------------------------------------------------------------


class RevocationOutcome:
    REVOKED = "Revoked"
    ALREADY_REVOKED = "AlreadyRevoked"
    NO_CERTIFICATE = "NoCertificate"


def revoke_certificate(
    table: Table, *, user_id: str, course_id: str, reason: str, execution_name: str, execution_arn: str
) -> tuple[str, str | None]:
    """Mark the student's certificate of the course REVOKED on all three items, once.

    Returns (outcome, certificate id).
    """
    listing = table.get(keys.user_certificate(user_id, course_id), consistent=True)
    if listing is None:
        return RevocationOutcome.NO_CERTIFICATE, None
    certificate_id = str(listing["certificateId"])
    if listing.get("status") == CertificateStatus.REVOKED.value:
        return RevocationOutcome.ALREADY_REVOKED, certificate_id
    revoked_at = isoformat(utcnow())

    def revoke(key: keys.Key, **details: str) -> Change:
        return Change(
            key,
            Update().set(status=CertificateStatus.REVOKED.value, revokedAt=revoked_at, **details),
            when=eq("status", CertificateStatus.VALID.value),
        )

    revoked = table.transact_if(
        [
            revoke(
                keys.certificate(certificate_id),
                revokedReason=reason,
                revokedByExecutionName=execution_name,
                revokedByExecutionArn=execution_arn,
            ),
            revoke(keys.user_certificate(user_id, course_id)),
            revoke(keys.certificate_code(str(listing["verificationCode"]))),
        ]
    )
    if not revoked:
        return RevocationOutcome.ALREADY_REVOKED, certificate_id
    return RevocationOutcome.REVOKED, certificate_id


def count_verification(table: Table, source: str) -> None:
    """Throttle the public route per source address, counted like failed logins (429 past the limit)."""
    settings = get_settings()
    start, retry_after = throttle.window(settings.verify_window_seconds)
    throttle.take_attempt(
        table,
        [(keys.verification_attempts(source, start), settings.verify_max_per_source)],
        expires=start + 2 * settings.verify_window_seconds,
        retry_after=retry_after,
        message="Too many verifications from this address; try again shortly.",
    )


# --- reads -----------------------------------------------------------------------------------------


def list_user_certificates(
    table: Table, user_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Item], str | None]:
    page = table.query(
        partition=(keys.PK, keys.user_index(user_id)),
        sort_prefix=(keys.SK, keys.CERTIFICATE_PREFIX),
        limit=limit,
        cursor=cursor,
    )
    return page.items, page.next_cursor


def get_certificate(item: Item | None, certificate_id: str) -> Certificate:
    if item is None:
        raise NotFoundError(f"No certificate with id {certificate_id}.")
    return Certificate.from_item(item)


@dataclass(frozen=True)
class PublicVerification:
    """What anyone holding the code learns: nothing more personal than the name on the certificate."""

    certificate_id: str
    holder_name: str
    course_title: str
    issued_at: datetime
    status: CertificateStatus


# Stands in for a missing code, so a miss builds and serialises the same answer a hit does.
_NOBODY: Item = {
    "certificateId": "0" * 32,
    "holderName": "-",
    "courseTitle": "-",
    "issuedAt": "2000-01-01T00:00:00.000Z",
    "status": CertificateStatus.REVOKED.value,
}


def lookup_code(table: Table, code: str) -> tuple[bool, PublicVerification]:
    """(found, answer): one GetItem and the same parsing whether the code exists or not."""
    item = table.get(keys.certificate_code(code))
    source = item or _NOBODY
    answer = PublicVerification(
        certificate_id=str(source["certificateId"]),
        holder_name=str(source["holderName"]),
        course_title=str(source["courseTitle"]),
        issued_at=datetime.fromisoformat(str(source["issuedAt"])),
        status=CertificateStatus(source["status"]),
    )
    return item is not None, answer
