"""``lms executions list|show|redrive``: the ops view of every workflow, locally or in AWS.

Both worlds speak the Step Functions API, so the commands are the same: without ``--region`` /
``--profile`` they talk to the running ``lms dev`` (its local cloud), with either they talk to AWS
with the caller's credentials and find the ``lms-*`` state machines there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any

from lms.errors import LmsError
from workflows import operations as ops


def add_parser(commands: Any, cloud_port: Any) -> None:
    parser = commands.add_parser("executions", help="list, show and redrive workflow executions")
    parser.add_argument("--region", help="talk to AWS in this region instead of the local cloud")
    parser.add_argument("--profile", help="talk to AWS with this named profile instead of the local cloud")
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="executions, newest first")
    listing.add_argument("--workflow", help="only this workflow (e.g. purchase)")
    listing.add_argument("--status", choices=[s.value for s in ops.ExecutionStatus])
    listing.add_argument("--key", help="business key to search for across every workflow")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = sub.add_parser(
        "show", help="one execution: status, timeline, failure, input and output, its business record"
    )
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="machine-readable output, with the history")
    redrive = sub.add_parser(
        "redrive",
        help="resume a failed execution (AWS) or re-run it (local); refused once its business record "
        "needs none, or while another run of it is in flight",
    )
    redrive.add_argument("name")
    redrive.add_argument(
        "--rerun",
        action="store_true",
        help="where RedriveExecution is not available (the local engine), start <name>-rerun-<n> "
        "with the original input",
    )
    parser.set_defaults(run=lambda args: run(args, cloud_port()))


def _operations(args: argparse.Namespace, cloud_port: int) -> ops.Operations:
    import boto3
    from botocore.config import Config

    if args.region or args.profile:
        session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
        # AWS itself, even if the shell points AWS_ENDPOINT_URL at the local cloud.
        client = session.client("stepfunctions", config=Config(ignore_configured_endpoint_urls=True))
        # Business records come from the table named by LMS_TABLE_NAME (the stack's TableName output).
        return ops.Operations(
            ops.discover_state_machines(client), client, read_records=bool(os.environ.get("LMS_TABLE_NAME"))
        )
    from infra.local.cloud import use_local_cloud
    from lms import aws

    use_local_cloud(f"http://127.0.0.1:{cloud_port}")
    client = aws.client("stepfunctions")
    return ops.Operations(ops.discover_state_machines(client), client)


def run(args: argparse.Namespace, cloud_port: int) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        operations = _operations(args, cloud_port)
        if args.action == "list":
            return _list(operations, args)
        if args.action == "show":
            return _show(operations, args)
        return _redrive(operations, args)
    except LmsError as error:
        print(error.message, file=sys.stderr)
        return 2 if error.status < 500 else 1
    except (BotoCoreError, ClientError) as error:
        where = (
            "AWS"
            if args.region or args.profile
            else f"the local cloud at port {cloud_port} (is `lms dev` running?)"
        )
        print(f"Cannot read executions from {where}: {error}", file=sys.stderr)
        return 1


def _list(operations: ops.Operations, args: argparse.Namespace) -> int:
    status = ops.ExecutionStatus(args.status) if args.status else None
    found = operations.list_executions(
        workflow=args.workflow, status=status, business_key=args.key, limit=args.limit
    )
    if args.json:
        print(json.dumps([s.model_dump(mode="json") for s in found], indent=2))
        return 0
    if not found:
        print("No executions.")
        return 0
    print(f"{'STATUS':<10} {'WORKFLOW':<18} {'STARTED (UTC)':<20} {'DURATION':>9}  NAME")
    for summary in found:
        print(
            f"{summary.status.value:<10} {summary.workflow:<18} {_time(summary.start_date):<20} "
            f"{_duration(summary.start_date, summary.stop_date):>9}  {summary.name}"
        )
    return 0


def _show(operations: ops.Operations, args: argparse.Namespace) -> int:
    detail = operations.describe(args.name)
    if args.json:
        print(detail.model_dump_json(indent=2))
        return 0
    print(f"{detail.name}")
    print(f"  workflow      {detail.workflow}   business key {detail.business_key}")
    print(
        f"  status        {detail.status.value}   started {_time(detail.start_date)}   "
        f"took {_duration(detail.start_date, detail.stop_date)}"
    )
    if detail.rerun_of:
        print(f"  re-run of     {detail.rerun_of}")
    if detail.reruns:
        print(f"  re-runs       {', '.join(detail.reruns)}")
    result = detail.output.get("result") if isinstance(detail.output, dict) else None
    if isinstance(result, dict) and ("outcome" in result or "reason" in result):
        print(f"  outcome       {result.get('outcome')}: {result.get('reason') or result.get('status')}")
    if detail.failure:
        print(
            f"  FAILED in     {detail.failure.state}: {detail.failure.error}: {_text(detail.failure.cause)}"
        )
    if detail.status in ops.ENDED_BADLY:
        print(
            f"  redrive       {detail.redrive_refusal or 'possible: lms executions redrive ' + detail.name}"
        )
    print("Timeline:")
    for step in detail.steps:
        offset = (step.entered_at - detail.start_date).total_seconds()
        took = f"{step.duration_ms} ms" if step.duration_ms is not None else "-"
        line = f"  +{offset:8.3f}s  {step.name:<28} {step.type:<9} {step.status:<9} {took:>9}"
        if step.error:
            line += f"  {step.error}: {_text(step.cause)}"
        print(line)
    print("Input:\n" + _indent(detail.input))
    print("Output:\n" + _indent(detail.output))
    if detail.record is None:
        print("Business record: none found")
        return 0
    print(f"Business record: {detail.record.kind} {detail.record.key}")
    for link in detail.record.links:
        print(f"  {link.field} -> {link.execution}")
    print(_indent(detail.record.data))
    return 0


def _redrive(operations: ops.Operations, args: argparse.Namespace) -> int:
    try:
        result = operations.redrive(args.name, rerun_if_unsupported=args.rerun)
    except ops.RedriveUnsupportedError as error:
        print(
            f"{error.message}\nRun `lms executions redrive {args.name} --rerun` to do that.", file=sys.stderr
        )
        return 2
    if result.mode == "redrive":
        print(f"Redriven: {result.name} resumes from its failed state.")
    else:
        print(
            f"The local engine has no RedriveExecution: re-running {args.name} with its original input "
            f"as {result.name} ({result.execution_arn})."
        )
    return 0


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _duration(start: datetime, stop: datetime | None) -> str:
    return f"{(stop - start).total_seconds():.1f}s" if stop else "running"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _indent(value: Any) -> str:
    return "\n".join(f"  {line}" for line in json.dumps(value, indent=2).splitlines())
