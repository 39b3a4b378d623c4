"""``lms credentials verify|rotate-key``: check a verifiable certificate as any outside verifier
would, and rotate the issuer's signing key (locally, or in AWS with ``--secret-id``).

``verify`` needs no account and no access to our data: it reads the credential (a file, or a URL),
resolves the issuer's ``did:web`` to its DID document, checks the EdDSA signature with the key the
``kid`` names, the validity dates and the revocation bit in the status list the credential points
to. Exit status: 0 valid, 1 not valid (revoked, expired, bad signature), 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_parser(commands: Any, cloud_port: Callable[[], int]) -> None:
    parser = commands.add_parser(
        "credentials", help="verify a verifiable certificate; rotate the signing key"
    )
    sub = parser.add_subparsers(dest="credentials_command", required=True)
    verify = sub.add_parser(
        "verify", help="check a credential (VC-JWT): signature, issuer key, status bit, validity dates"
    )
    verify.add_argument("source", metavar="FILE|URL", help="a file holding the VC-JWT, or a URL serving it")
    verify.add_argument(
        "--bearer", help="an access token to fetch the credential URL with (the holder's or an admin's)"
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(run=run_verify)
    rotate = sub.add_parser(
        "rotate-key",
        help="a new signing key: its public key published (old ones stay), then stored in the secret",
    )
    rotate.add_argument(
        "--secret-id", help="the CredentialKeySecretArn stack output (AWS); default: the running `lms dev`"
    )
    rotate.add_argument("--table", help="the TableName stack output (with --secret-id)")
    rotate.add_argument("--region", help="AWS region (with --secret-id)")
    rotate.set_defaults(run=lambda args: run_rotate(args, cloud_port))


def _read(source: str, bearer: str | None) -> str:
    from lms.credentials.verifier import http_fetch

    if source.startswith(("http://", "https://")):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return http_fetch(source, headers).decode().strip()
    return Path(source).read_text(encoding="utf-8").strip()


def run_verify(args: argparse.Namespace) -> int:
    from lms.credentials.verifier import verify

    try:
        token = _read(args.source, args.bearer)
    except Exception as error:  # noqa: BLE001 - a clear message, not a traceback
        print(f"Could not read the credential from {args.source}: {error}", file=sys.stderr)
        return 2
    result = verify(token)
    if args.json:
        print(
            json.dumps(
                {
                    "valid": result.valid,
                    "revoked": result.revoked,
                    "checks": [{"check": n, "ok": ok, "detail": d} for n, ok, d in result.checks],
                    "credential": result.payload or None,
                },
                indent=2,
            )
        )
    else:
        subject = result.payload.get("credentialSubject", {}) if result.payload else {}
        achievement = subject.get("achievement", {}) if isinstance(subject, dict) else {}
        if achievement:
            print(f"Credential: {achievement.get('name')} (issued {result.payload.get('validFrom')})")
        for name, ok, detail in result.checks:
            print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
        print("VALID" if result.valid else ("REVOKED" if result.revoked else "NOT VALID"))
    return 0 if result.valid else 1


def run_rotate(args: argparse.Namespace, cloud_port: Callable[[], int]) -> int:
    from lms.credentials import keys as credential_keys
    from lms.settings import reset_settings
    from lms.table import Table

    if args.secret_id:
        if args.region:
            os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
        if args.table:
            os.environ["LMS_TABLE_NAME"] = args.table
        reset_settings()
        secret_id = args.secret_id
    else:
        from infra.local.cloud import CREDENTIAL_KEY_SECRET_NAME, use_local_cloud

        use_local_cloud(f"http://127.0.0.1:{cloud_port()}")
        secret_id = CREDENTIAL_KEY_SECRET_NAME
    signing_key = credential_keys.rotate(Table(), secret_id)
    print(f"New signing key {signing_key.kid}: published in the DID document, stored in {secret_id}.")
    print("Credentials signed with the previous keys keep verifying (their keys stay published).")
    return 0
