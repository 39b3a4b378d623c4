"""``lms mail``: the mail a running ``lms dev`` sent, read from its local SES (``GET /_local/mail``).

``lms mail list`` prints the latest messages, newest first (``--to`` filters by recipient);
``lms mail show <messageId>`` prints one whole, headers and bodies (``--html`` for the HTML part).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

from infra.local import mailbox


def _fetch(cloud_port: Callable[[], int]) -> list[mailbox.SentMail]:
    from infra.local import dev_state

    endpoint = f"http://127.0.0.1:{cloud_port()}"
    try:
        return mailbox.fetch(endpoint)
    except (URLError, OSError) as error:
        sys.exit(f"Could not read the sent mail at {endpoint} ({dev_state.not_running_hint()}): {error}")


def list_mail(args: argparse.Namespace, cloud_port: Callable[[], int]) -> int:
    found = [m for m in _fetch(cloud_port) if not args.to or any(args.to in t for t in m.to)]
    if not found:
        print("No mail sent yet." if not args.to else f"No mail to {args.to}.")
        return 0
    for sent in found[: args.limit]:
        print(f"{sent.message_id}  {sent.date}  {', '.join(sent.to)}  {sent.subject}")
    return 0


def show_mail(args: argparse.Namespace, cloud_port: Callable[[], int]) -> int:
    sent = next((m for m in _fetch(cloud_port) if m.message_id == args.message_id), None)
    if sent is None:
        print(f"No sent mail {args.message_id} (see `lms mail list`).", file=sys.stderr)
        return 1
    print(f"From: {sent.sender}\nTo: {', '.join(sent.to)}\nDate: {sent.date}\nSubject: {sent.subject}")
    if sent.list_unsubscribe:
        print(f"List-Unsubscribe: {sent.list_unsubscribe}")
        print(f"List-Unsubscribe-Post: {sent.list_unsubscribe_post}")
    print()
    print(sent.html if args.html and sent.html is not None else sent.text)
    return 0


def add_parser(commands: Any, cloud_port: Callable[[], int]) -> None:
    parser = commands.add_parser("mail", help="the mail a running `lms dev` sent (its local SES)")
    mail_commands = parser.add_subparsers(dest="mail_command", required=True)
    listing = mail_commands.add_parser("list", help="the latest mail, newest first")
    listing.add_argument("--to", help="only mail to addresses containing this")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(run=lambda args: list_mail(args, cloud_port))
    show = mail_commands.add_parser("show", help="one message, headers and body")
    show.add_argument("message_id")
    show.add_argument("--html", action="store_true", help="print the HTML part instead of the text")
    show.set_defaults(run=lambda args: show_mail(args, cloud_port))
