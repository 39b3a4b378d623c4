"""Credential signing benchmark: what issuing a verifiable credential adds to RecordCertificate.

    .venv/bin/python -m benchmarks.credentials
    .venv/bin/python -m benchmarks.credentials --signings 2000

Builds and signs ``--signings`` OpenBadgeCredentials (VC-JWT, EdDSA over Ed25519, joserfc) with a
signing key already loaded (a warm function caches it), plus the status list credential a revocation
re-signs (a 16 KB bitstring, GZIP + base64url, with 1,000 bits set), and prints the median and p95 of
each against the issue's budget of 5 ms. No network, no local cloud: the DynamoDB writes of the
allocation are the record's own, measured by the certificate benchmark. Figures, not assertions
(docs/workflows/certificate.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, datetime

BUDGET_MS = 5.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--signings", type=int, default=1000)
    args = parser.parse_args(argv)

    from lms.credentials import badge, identity, status_list
    from lms.credentials import keys as credential_keys
    from lms.credentials.status_list import StatusEntry

    signing_key = credential_keys.generate()
    issuer = badge.issuer_for("https://lms.example.com")
    salt = identity.new_salt()
    credential_ms = []
    size = 0
    for _ in range(args.signings):
        started = time.perf_counter()
        payload = badge.credential(
            issuer=issuer,
            certificate_id=uuid.uuid4().hex,
            course_id=uuid.uuid4().hex,
            course_title="Python for Beginners",
            course_description="Variables, functions, files and tests, from zero.",
            holder_identity_hash=identity.identity_hash("student@example.com", salt),
            holder_identity_salt=salt,
            issued_at=datetime.now(UTC),
            status=StatusEntry("list", random.randrange(status_list.LIST_BITS), "https://lms.example.com/s"),  # noqa: S311
        )
        token = badge.sign(payload, issuer, signing_key)
        credential_ms.append((time.perf_counter() - started) * 1000)
        size = max(size, len(token))

    revoked = set(random.sample(range(status_list.LIST_BITS), 1000))
    item = {
        "url": "https://lms.example.com/credentials/status/list",
        "issuer": issuer.did,
        "issuerName": "LMS",
    }
    list_ms = []
    for _ in range(max(10, args.signings // 10)):
        started = time.perf_counter()
        status_list.sign_list(item, revoked, signing_key)
        list_ms.append((time.perf_counter() - started) * 1000)

    print(
        f"credential build + sign ({args.signings}x): p50 {statistics.median(credential_ms):.2f} ms, "
        f"p95 {percentile(credential_ms, 0.95):.2f} ms (budget {BUDGET_MS:.0f} ms); largest {size} bytes"
    )
    print(
        f"status list re-sign, 1,000 bits set ({len(list_ms)}x): p50 {statistics.median(list_ms):.2f} ms, "
        f"p95 {percentile(list_ms, 0.95):.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
