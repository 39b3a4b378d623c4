"""The ``OpenBadgeCredential`` (1EdTech Open Badges 3.0) of a certificate, signed as a VC-JWT.

The course is the achievement (name, description, criteria); the holder is the subject, identified
only by a salted SHA-256 of their email (OB 3.0 ``IdentityObject``): the credential never carries an
email in clear, yet the holder can prove it is theirs by revealing the address the hash was made of.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lms.clock import isoformat
from lms.credentials import jose
from lms.credentials.did import did_web, verification_method_id
from lms.credentials.keys import SigningKey
from lms.credentials.status_list import CREDENTIALS_V2, Issuer, StatusEntry
from lms.settings import get_settings

OPEN_BADGES_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CRITERIA = "Completed every lesson of the course."


def issuer_for(public_url: str) -> Issuer:
    return Issuer(
        did=did_web(public_url), name=get_settings().credential_issuer_name, public_url=public_url.rstrip("/")
    )


def _stamp(moment: datetime) -> str:
    return isoformat(moment).replace(".000Z", "Z")


def credential(
    *,
    issuer: Issuer,
    certificate_id: str,
    course_id: str,
    course_title: str,
    course_description: str,
    holder_identity_hash: str,
    holder_identity_salt: str,
    issued_at: datetime,
    status: StatusEntry,
) -> dict[str, Any]:
    """The credential (the JWT payload): the VC itself plus the registered JWT claims."""
    credential_id = f"{issuer.public_url}/certificates/{certificate_id}/credential"
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "achievement": {
            "id": f"{issuer.public_url}/courses/{course_id}",
            "type": ["Achievement"],
            "achievementType": "Course",
            "name": course_title,
            "description": course_description or course_title,
            "criteria": {"narrative": CRITERIA},
        },
    }
    if holder_identity_hash:
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityHash": holder_identity_hash,
                "identityType": "emailAddress",
                "hashed": True,
                "salt": holder_identity_salt,
            }
        ]
    return {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer.did, "type": ["Profile"], "name": issuer.name, "url": issuer.public_url},
        "name": course_title,
        "validFrom": _stamp(issued_at),
        "credentialSubject": subject,
        "credentialStatus": status.credential_status(),
        "iss": issuer.did,
        "jti": credential_id,
        "nbf": int(issued_at.timestamp()),
        "iat": int(issued_at.timestamp()),
    }


def sign(payload: dict[str, Any], issuer: Issuer, signing_key: SigningKey) -> str:
    return jose.sign(payload, signing_key.key, kid=verification_method_id(issuer.did, signing_key.kid))
