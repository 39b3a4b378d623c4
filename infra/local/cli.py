"""The ``lms`` command: ``lms dev`` runs the whole product locally, ``lms seed`` re-seeds demo data,
``lms pay`` plays the customer's browser, ``lms executions`` inspects workflow executions,
``lms credentials`` verifies a verifiable certificate and rotates its signing key."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import sys
import threading

DEFAULT_API_PORT = 3000
DEFAULT_CLOUD_PORT = 4566
DEFAULT_STRIPE_PORT = 8420
SUCCEEDING_CARD = "4242424242424242"


def _port(variable: str, default: int) -> int:
    """A port for `lms dev` itself: the exported variable or the default (never a state file)."""
    raw = os.environ.get(variable, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        sys.exit(f"{variable} must be a port number, not {raw!r}")
    return int(raw)


def _running_port(variable: str, default: int) -> int:
    """A port of the running `lms dev` (exported variable, else `.lms/dev.json`, else the default)."""
    from infra.local import dev_state

    return dev_state.port(variable, default)


def _demo_password() -> tuple[str, bool]:
    """``(password, generated)``: ``LMS_DEMO_PASSWORD`` when set, otherwise a fresh random one."""
    configured = os.environ.get("LMS_DEMO_PASSWORD")
    return (configured, False) if configured else (secrets.token_urlsafe(12), True)


def _print_logins(password: str, generated: bool) -> None:
    from infra.local.seed import DEMO_USERS

    origin = (
        "generated for this run; set LMS_DEMO_PASSWORD to choose one"
        if generated
        else "from LMS_DEMO_PASSWORD"
    )
    print(f"Demo logins (password {origin}):")
    for email, _, _, role in DEMO_USERS:
        print(f"  {role.value:<11} {email:<24} {password}")


def dev(args: argparse.Namespace) -> int:
    from infra.local import dev_state
    from infra.local.api_gateway import LocalApi
    from infra.local.cloud import LocalCloud
    from infra.local.seed import seed_demo_data
    from infra.local.stripe import LocalStripe
    from lms.table import Table

    # A fresh signing secret per run: tokens die with the process, like the data.
    os.environ.setdefault("LMS_JWT_SECRET", secrets.token_urlsafe(48))
    cloud_port = _port("LMS_CLOUD_PORT", DEFAULT_CLOUD_PORT)
    api_port = _port("LMS_API_PORT", DEFAULT_API_PORT)
    stripe_port = _port("LMS_STRIPE_PORT", DEFAULT_STRIPE_PORT)
    # Emails' unsubscribe links are signed with a key per run and point at this API.
    os.environ.setdefault("LMS_MAIL_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("LMS_PUBLIC_URL", f"http://127.0.0.1:{api_port}")
    # With a real Stripe test key in the environment, payments go to Stripe test mode instead.
    local_stripe = None if os.environ.get("STRIPE_SECRET_KEY") else LocalStripe(port=stripe_port)
    # The API listens last, once everything printed below is true: a script that waits for /health
    # can then log in as the demo users straight away.
    api = LocalApi(port=api_port, access_log=True)
    try:
        # Schedule rules fire every period here, as in AWS (tests leave them off and fire ticks).
        cloud = LocalCloud(port=cloud_port, schedules=True).start()
        if local_stripe:
            local_stripe.start()
            local_stripe.configure_environment()
            local_stripe.register_webhook(f"{api.url}/webhooks/stripe")
        cloud.bootstrap()
        password, generated = _demo_password()
        if not args.no_seed:
            seed_demo_data(Table(), password)
        api.start()
    except (OSError, RuntimeError, TimeoutError) as error:
        sys.exit(
            f"Cannot start ({error}); set LMS_API_PORT / LMS_CLOUD_PORT / LMS_STRIPE_PORT to free ports."
        )

    print("LMS is running (local data lives as long as this process).")
    print(f"  API          {api.url}")
    print(f"  API docs     {api.url}/docs   (OpenAPI: {api.url}/openapi.json)")
    print(f"  Health       {api.url}/health")
    print(f"  Ops console  {api.url}/console   (or `lms executions list`)")
    print(f"  Analytics    {api.url}/dashboard (instructor or admin login)")
    print(f"  Local cloud  {cloud.endpoint}   (AWS_ENDPOINT_URL for the aws CLI / boto3)")
    for name, every in cloud.schedule_rates().items():
        print(f"  Schedule     {name} every {every // 60} min (first tick one period from now)")
    if local_stripe:
        print(f"  Stripe       {local_stripe.url}   (localstripe; pay with `lms pay <transactionId>`)")
    else:
        print("  Stripe       test mode (STRIPE_SECRET_KEY); forward webhooks to /webhooks/stripe")
    if not args.no_seed:
        _print_logins(password, generated)
    # Written last, once everything above is true, so `lms seed`, `lms pay` and `lms executions` in
    # another shell find this instance without exported variables.
    state = dev_state.register(api_port, cloud_port, local_stripe.port if local_stripe else None)
    if state is not None:
        print(f"  Recorded in  {state}   (`lms status`, `make seed`, `lms pay` find this instance)")
    else:
        print(f"  (another `lms dev` of this checkout is recorded in {dev_state.state_file()}: the")
        print("   other `lms` commands talk to that one unless LMS_*_PORT is exported)")
    print("Press Ctrl-C to stop.", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    print("\nStopping.")
    dev_state.unregister()
    api.stop()
    if local_stripe:
        local_stripe.stop()
    cloud.stop()
    return 0


def seed(_: argparse.Namespace) -> int:
    """Re-seed a running `lms dev`; the demo password stays the one it printed unless one is given."""
    from infra.local import dev_state
    from infra.local.cloud import use_local_cloud
    from infra.local.seed import seed_demo_data
    from lms.table import Table

    cloud_port = _running_port("LMS_CLOUD_PORT", DEFAULT_CLOUD_PORT)
    use_local_cloud(f"http://127.0.0.1:{cloud_port}")
    password, generated = _demo_password()
    try:
        seeded = seed_demo_data(Table(), password, keep_passwords=generated)
    except Exception as error:  # noqa: BLE001 - turned into a clear message for the user
        sys.exit(
            f"Could not seed the local cloud at port {cloud_port} ({dev_state.not_running_hint()}): {error}"
        )
    print("Demo data re-seeded.")
    if seeded.new_logins:
        _print_logins(password, generated)
    else:
        print("Demo logins unchanged (the password `lms dev` printed; set LMS_DEMO_PASSWORD to reset it).")
    return 0


def status(args: argparse.Namespace) -> int:
    """Where the running `lms dev` is: for people, or one URL for scripts (`API=$(lms status --api-url)`)."""
    import requests

    from infra.local import dev_state

    api = f"http://127.0.0.1:{_running_port('LMS_API_PORT', DEFAULT_API_PORT)}"
    cloud = f"http://127.0.0.1:{_running_port('LMS_CLOUD_PORT', DEFAULT_CLOUD_PORT)}"
    if args.api_url or args.cloud_url:
        print(api if args.api_url else cloud)
        return 0
    instance = dev_state.running()
    try:
        healthy = requests.get(f"{api}/health", timeout=5).status_code == 200
    except requests.RequestException:
        healthy = False
    if not healthy:
        print(f"No `lms dev` answers at {api} ({dev_state.not_running_hint()}).", file=sys.stderr)
        return 1
    if instance is not None:
        print(f"lms dev (pid {instance.pid}, started {instance.started_at}) from {instance.checkout}")
    print(f"  API          {api}")
    print(f"  Local cloud  {cloud}")
    if instance is not None and instance.stripe_port is not None:
        print(f"  Stripe       http://127.0.0.1:{instance.stripe_port}")
    return 0


def pay(args: argparse.Namespace) -> int:
    """Play the customer's browser for a PENDING transaction of a running `lms dev`."""
    import time

    from infra.local import dev_state
    from infra.local.cloud import use_local_cloud
    from infra.local.stripe import pay as confirm_payment
    from lms import purchases
    from lms.entities import TransactionStatus
    from lms.table import Table

    use_local_cloud(f"http://127.0.0.1:{_running_port('LMS_CLOUD_PORT', DEFAULT_CLOUD_PORT)}")
    if not os.environ.get("STRIPE_SECRET_KEY"):
        os.environ["STRIPE_SECRET_KEY"] = "sk_test_local_cli"  # localstripe accepts any test key
        os.environ["LMS_STRIPE_API_BASE"] = (
            f"http://127.0.0.1:{_running_port('LMS_STRIPE_PORT', DEFAULT_STRIPE_PORT)}"
        )
    table = Table()
    try:
        transaction = purchases.get_transaction(table, args.transaction_id)
    except Exception as error:  # noqa: BLE001 - turned into a clear message for the user
        sys.exit(f"Cannot reach the local cloud ({dev_state.not_running_hint()}): {error}")
    if transaction is None:
        sys.exit(f"No transaction {args.transaction_id}.")
    if transaction.status != TransactionStatus.PENDING or not transaction.payment_intent_id:
        sys.exit(f"Transaction {args.transaction_id} is {transaction.status} and cannot be paid.")
    status, message = confirm_payment(transaction.payment_intent_id, args.card)
    print(f"Payment {status}" + (f": {message}" if message else ""))
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        transaction = purchases.get_transaction(table, args.transaction_id)
        if transaction and transaction.status != TransactionStatus.PENDING:
            break
        time.sleep(0.2)
    final = transaction.status if transaction else "unknown"
    print(
        f"Transaction {args.transaction_id}: {final}"
        + (f" ({transaction.reason})" if transaction and transaction.reason else "")
    )
    return 0 if final == TransactionStatus.COMPLETED else 1


def sweep_refunds(args: argparse.Namespace) -> int:
    """Finish the admin refunds left REFUND_PENDING (lms/purchases/refunds.py) of a running `lms dev`."""
    from datetime import timedelta

    from infra.local.cloud import use_local_cloud
    from lms import payments, purchases
    from lms.table import Table

    use_local_cloud(f"http://127.0.0.1:{_running_port('LMS_CLOUD_PORT', DEFAULT_CLOUD_PORT)}")
    if not os.environ.get("STRIPE_SECRET_KEY"):  # the localstripe of `lms dev` (any test key will do)
        stripe_port = _running_port("LMS_STRIPE_PORT", DEFAULT_STRIPE_PORT)
        os.environ.update(
            STRIPE_SECRET_KEY="sk_test_local_cli", LMS_STRIPE_API_BASE=f"http://127.0.0.1:{stripe_port}"
        )
    report = purchases.sweep_pending_refunds(
        Table(), payments.gateway(), older_than=timedelta(seconds=args.older_than)
    )
    for transaction_id in report.finished:
        print(f"refunded {transaction_id}")
    for transaction_id, why in report.failed.items():
        print(f"still pending {transaction_id}: {why}")
    print(f"{len(report.finished)} finished, {len(report.failed)} still pending")
    return 1 if report.failed else 0


def fire_schedule(args: argparse.Namespace) -> int:
    """Deliver one tick of a workflow's schedule rule now, to the rule's targets, as the timer of the
    running `lms dev` does every period (the starter names the run after the tick's period)."""
    from infra.local import dev_state
    from infra.local.cloud import schedule_rule_name, scheduled_event, use_local_cloud
    from lms import aws
    from lms.clock import utcnow
    from workflows.catalog import WORKFLOWS
    from workflows.definition import ScheduleTrigger

    scheduled = {w.name: w for w in WORKFLOWS if isinstance(w.trigger, ScheduleTrigger)}
    if args.workflow not in scheduled:
        sys.exit(
            f"No scheduled workflow {args.workflow!r}; the catalog schedules: {', '.join(sorted(scheduled))}"
        )
    use_local_cloud(f"http://127.0.0.1:{_running_port('LMS_CLOUD_PORT', DEFAULT_CLOUD_PORT)}")
    events, functions = aws.client("events"), aws.client("lambda")
    rule = schedule_rule_name(scheduled[args.workflow])
    try:
        rule_arn = events.describe_rule(Name=rule)["Arn"]
    except Exception as error:  # noqa: BLE001 - turned into a clear message for the user
        sys.exit(f"Could not reach the schedule {rule} ({dev_state.not_running_hint()}): {error}")
    event = scheduled_event(rule_arn, utcnow(), events.meta.region_name)
    failed = False
    for target in events.list_targets_by_rule(Rule=rule)["Targets"]:
        answer = functions.invoke(FunctionName=target["Arn"].rpartition(":")[2], Payload=json.dumps(event))
        body = answer["Payload"].read().decode()
        failed = failed or "FunctionError" in answer
        print(f"{target['Arn'].rpartition(':')[2]}: {body}")
    return 1 if failed else 0


def analytics_refresh(args: argparse.Namespace) -> int:
    """Run the analytics reports now on the running `lms dev` (the schedule runs them every 5
    minutes) and print the stored scopes with asOf. The local lake has an event within
    LMS_LAKE_BUFFER_SECONDS (10 s) of its publication."""
    import time
    import uuid

    from infra.local.cloud import use_local_cloud
    from lms import aws
    from workflows import executions
    from workflows.analytics_reports import ANALYTICS_REPORTS
    from workflows.definition import arn_variable

    use_local_cloud(f"http://127.0.0.1:{_running_port('LMS_CLOUD_PORT', DEFAULT_CLOUD_PORT)}")
    sfn = aws.client("stepfunctions")
    machines = sfn.list_state_machines()["stateMachines"]
    found = [m["stateMachineArn"] for m in machines if m["name"] == ANALYTICS_REPORTS.state_machine_name]
    if not found:
        sys.exit(f"{ANALYTICS_REPORTS.state_machine_name} is not deployed on the running `lms dev`")
    os.environ[arn_variable(ANALYTICS_REPORTS.name)] = found[0]
    started = executions.start(ANALYTICS_REPORTS, f"manual-{uuid.uuid4().hex[:12]}", {})
    deadline = time.monotonic() + args.wait
    while (described := sfn.describe_execution(executionArn=started.arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            print(f"{started.name} is still running; see `lms executions`")
            return 1
        time.sleep(0.5)
    print(f"{started.name}: {described['status']} {described.get('output') or described.get('cause', '')}")
    return 0 if described["status"] == "SUCCEEDED" else 1


def analytics_backfill(_: argparse.Namespace) -> int:
    """Publish the events of the records that existed before the lake (deterministic ids: a second
    run adds only duplicates, which the reports drop)."""
    from infra.local.cloud import use_local_cloud
    from lms import events
    from lms.analytics.backfill import backfill
    from lms.table import Table

    use_local_cloud(f"http://127.0.0.1:{_running_port('LMS_CLOUD_PORT', DEFAULT_CLOUD_PORT)}")
    print(f"{backfill(Table(), events.publish)} events published; `lms analytics refresh` to report them")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lms", description="Run the LMS backend locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    dev_parser = commands.add_parser("dev", help="start the local cloud and the API, seed demo data")
    dev_parser.add_argument("--no-seed", action="store_true", help="start with an empty table")
    dev_parser.set_defaults(run=dev)
    seed_parser = commands.add_parser("seed", help="re-seed the demo data of a running `lms dev`")
    seed_parser.set_defaults(run=seed)
    status_parser = commands.add_parser("status", help="where the running `lms dev` is (from .lms/dev.json)")
    which = status_parser.add_mutually_exclusive_group()
    which.add_argument("--api-url", action="store_true", help="print only the API's URL")
    which.add_argument("--cloud-url", action="store_true", help="print only the local cloud's URL")
    status_parser.set_defaults(run=status)
    pay_parser = commands.add_parser(
        "pay", help="pay a PENDING transaction with a test card, as the browser would"
    )
    pay_parser.add_argument("transaction_id")
    pay_parser.add_argument(
        "--card", default=SUCCEEDING_CARD, help="test card number (4000000000000341 is declined)"
    )
    pay_parser.add_argument(
        "--wait", type=float, default=15, help="seconds to wait for the transaction to finish"
    )
    pay_parser.set_defaults(run=pay)
    refunds_parser = commands.add_parser("refunds", help="admin refunds")
    refunds_commands = refunds_parser.add_subparsers(dest="refunds_command", required=True)
    sweep_parser = refunds_commands.add_parser(
        "sweep", help="finish admin refunds left REFUND_PENDING (a request stopped mid-way)"
    )
    sweep_parser.add_argument(
        "--older-than", type=float, default=120, help="seconds a refund has been pending (default 120)"
    )
    sweep_parser.set_defaults(run=sweep_refunds)
    schedules_parser = commands.add_parser("schedules", help="scheduled workflows of a running `lms dev`")
    schedules_commands = schedules_parser.add_subparsers(dest="schedules_command", required=True)
    fire_parser = schedules_commands.add_parser(
        "fire", help="deliver one tick of a workflow's schedule now (the run is named after its period)"
    )
    fire_parser.add_argument("workflow", help="a workflow with a schedule trigger")
    fire_parser.set_defaults(run=fire_schedule)
    analytics_parser = commands.add_parser("analytics", help="the analytics reports of a running `lms dev`")
    analytics_commands = analytics_parser.add_subparsers(dest="analytics_command", required=True)
    refresh_parser = analytics_commands.add_parser(
        "refresh", help="run every report now and store the results"
    )
    refresh_parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the run")
    refresh_parser.set_defaults(run=analytics_refresh)
    backfill_parser = analytics_commands.add_parser(
        "backfill", help="publish the events of records that existed before the lake (idempotent)"
    )
    backfill_parser.set_defaults(run=analytics_backfill)
    from infra.local import executions_cli

    executions_cli.add_parser(commands, lambda: _running_port("LMS_CLOUD_PORT", DEFAULT_CLOUD_PORT))
    from infra.local import mail_cli

    mail_cli.add_parser(commands, lambda: _running_port("LMS_CLOUD_PORT", DEFAULT_CLOUD_PORT))
    from infra.local import credentials_cli

    credentials_cli.add_parser(commands, lambda: _running_port("LMS_CLOUD_PORT", DEFAULT_CLOUD_PORT))
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
