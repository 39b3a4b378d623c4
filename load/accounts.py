"""The staff accounts a load run logs in with, on a local ``lms dev`` only.

Students register through the API like real ones; an instructor and an admin cannot, so the runner
writes ``load-instructor@example.com`` and ``load-admin@example.com`` straight into the local cloud's
table (as ``lms seed`` writes the demo users), with a fresh password each run. Against any other
API, give them as ``LOAD_INSTRUCTOR_EMAIL``/``_PASSWORD`` and ``LOAD_ADMIN_EMAIL``/``_PASSWORD``.
"""

from __future__ import annotations

import secrets
import uuid

from lms.entities import Role

STAFF = (("INSTRUCTOR", Role.INSTRUCTOR), ("ADMIN", Role.ADMIN))
_NAMESPACE = uuid.UUID("0b9d6a55-2f0e-4d55-9e65-2a5c3b1c9d40")


def create_staff(cloud_url: str) -> dict[str, str]:
    """Create (or reset) the load suite's instructor and admin; answers their ``LOAD_*`` variables."""
    from infra.local.cloud import use_local_cloud
    from lms import keys, passwords
    from lms.clock import utcnow
    from lms.entities import User
    from lms.identity import user_item
    from lms.table import Table

    use_local_cloud(cloud_url)
    table = Table()
    password = secrets.token_urlsafe(16)
    password_hash = passwords.hash_password(password)
    now = utcnow()
    variables = {}
    for name, role in STAFF:
        email = f"load-{name.lower()}@example.com"
        user = User(
            user_id=uuid.uuid5(_NAMESPACE, email).hex,
            email=email,
            first_name="Load",
            last_name=name.title(),
            role=role,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        table.put(user_item(user))
        table.put({**keys.email_claim(email).as_item(), "userId": user.user_id})
        variables[f"LOAD_{name}_EMAIL"] = email
        variables[f"LOAD_{name}_PASSWORD"] = password
    return variables
