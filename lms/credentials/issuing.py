"""What the certificate workflows do with credentials: issue one with a certificate, revoke its bit.

RecordCertificate calls :func:`issue` before it records the certificate (the credential is stored on
the certificate item, in the same transaction); RevokeCertificate calls :func:`revoke` after the
certificate is marked REVOKED (safe to repeat: a retry finds the bit set and changes nothing).
"""

from __future__ import annotations

from lms.credentials import badge, status_list
from lms.credentials.keys import current_signing_key
from lms.entities import Certificate
from lms.table import Table

VERIFY_PATH = "/certificates/verify/"


def public_url_from_verify_base(verify_url_base: str) -> str:
    """The API's public URL, from the base the PDF's QR code is built on (``<url>/certificates/verify/``)."""
    return verify_url_base.removesuffix(VERIFY_PATH).rstrip("/")


def issue(table: Table, certificate: Certificate, public_url: str) -> str:
    """The certificate's signed OpenBadgeCredential (VC-JWT), its status index allocated once."""
    signing_key = current_signing_key()
    issuer = badge.issuer_for(public_url)
    entry = status_list.allocate(table, certificate.certificate_id, issuer, signing_key)
    payload = badge.credential(
        issuer=issuer,
        certificate_id=certificate.certificate_id,
        course_id=certificate.course_id,
        course_title=certificate.course_title,
        course_description=certificate.course_description,
        holder_identity_hash=certificate.holder_identity_hash,
        holder_identity_salt=certificate.holder_identity_salt,
        issued_at=certificate.issued_at,
        status=entry,
    )
    return badge.sign(payload, issuer, signing_key)


def revoke(table: Table, certificate_id: str) -> bool | None:
    """Set the certificate's revocation bit: True if this call set it, False if it was set already,
    None if the certificate has no credential (issued before credentials existed)."""
    entry = status_list.status_entry(table, certificate_id)
    if entry is None:
        return None
    return status_list.revoke(table, entry, current_signing_key())
