"""The ``lms`` command: ``lms dev`` runs the whole product locally, ``lms seed`` re-seeds demo data."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import sys
import threading

DEFAULT_API_PORT = 3000
DEFAULT_CLOUD_PORT = 4566


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        sys.exit(f"{variable} must be a port number, not {raw!r}")
    return int(raw)


def _demo_password() -> tuple[str, bool]:
    """``(password, generated)``: ``LMS_DEMO_PASSWORD`` when set, otherwise a fresh random one."""
    configured = os.environ.get("LMS_DEMO_PASSWORD")
    return (configured, False) if configured else (secrets.token_urlsafe(12), True)


def _print_logins(password: str, generated: bool) -> None:
    from lms.seed import DEMO_USERS

    origin = (
        "generated for this run; set LMS_DEMO_PASSWORD to choose one"
        if generated
        else "from LMS_DEMO_PASSWORD"
    )
    print(f"Demo logins (password {origin}):")
    for email, _, _, role in DEMO_USERS:
        print(f"  {role.value:<11} {email:<24} {password}")


def dev(args: argparse.Namespace) -> int:
    from infra.local.api_gateway import LocalApi
    from infra.local.cloud import LocalCloud
    from lms.seed import seed_demo_data
    from lms.table import Table

    # A fresh signing secret per run: tokens die with the process, like the data.
    os.environ.setdefault("LMS_JWT_SECRET", secrets.token_urlsafe(48))
    cloud_port = _port("LMS_CLOUD_PORT", DEFAULT_CLOUD_PORT)
    api_port = _port("LMS_API_PORT", DEFAULT_API_PORT)
    try:
        cloud = LocalCloud(port=cloud_port).start()
        api = LocalApi(port=api_port, access_log=True).start()
    except OSError as error:
        sys.exit(f"Cannot listen on a port ({error}); set LMS_API_PORT / LMS_CLOUD_PORT to free ones.")
    cloud.bootstrap()
    password, generated = _demo_password()
    if not args.no_seed:
        seed_demo_data(Table(), password)

    print("LMS is running (local data lives as long as this process).")
    print(f"  API          {api.url}")
    print(f"  API docs     {api.url}/docs   (OpenAPI: {api.url}/openapi.json)")
    print(f"  Health       {api.url}/health")
    print(f"  Local cloud  {cloud.endpoint}   (AWS_ENDPOINT_URL for the aws CLI / boto3)")
    if not args.no_seed:
        _print_logins(password, generated)
    print("Press Ctrl-C to stop.", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    print("\nStopping.")
    api.stop()
    cloud.stop()
    return 0


def seed(_: argparse.Namespace) -> int:
    from infra.local.cloud import use_local_cloud
    from lms.seed import seed_demo_data
    from lms.table import Table

    cloud_port = _port("LMS_CLOUD_PORT", DEFAULT_CLOUD_PORT)
    use_local_cloud(f"http://127.0.0.1:{cloud_port}")
    password, generated = _demo_password()
    try:
        seed_demo_data(Table(), password)
    except Exception as error:  # noqa: BLE001 - turned into a clear message for the user
        sys.exit(f"Could not seed the local cloud at port {cloud_port} (is `lms dev` running?): {error}")
    print("Demo data re-seeded.")
    _print_logins(password, generated)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lms", description="Run the LMS backend locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    dev_parser = commands.add_parser("dev", help="start the local cloud and the API, seed demo data")
    dev_parser.add_argument("--no-seed", action="store_true", help="start with an empty table")
    dev_parser.set_defaults(run=dev)
    seed_parser = commands.add_parser("seed", help="re-seed the demo data of a running `lms dev`")
    seed_parser.set_defaults(run=seed)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
