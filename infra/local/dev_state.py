"""Where a running ``lms dev`` is: ``.lms/dev.json`` in the checkout it runs from.

``lms dev`` writes its ports, its pid and its checkout there once it is ready, and removes the file
when it stops. Every other ``lms`` command (``seed``, ``pay``, ``executions``) and ``make seed`` read
it, so they find the running instance without the shell exporting the same ``LMS_*_PORT`` variables.
An exported variable still wins, one variable at a time. Two checkouts on one machine have two
files, so each checkout's commands talk to the instance started from it. A file whose process is
gone (``lms dev`` was killed) is ignored with a message saying so.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

# Tests that start their own `lms dev` point this at a file of their own, so they never replace the
# developer's state file (or read it).
STATE_FILE_VARIABLE = "LMS_DEV_STATE_FILE"
# The checkout this code runs from (the package is installed editable from it).
CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DevInstance:
    """A running ``lms dev``, as its state file describes it."""

    pid: int
    checkout: str
    api_port: int
    cloud_port: int
    stripe_port: int | None  # None: payments go to Stripe test mode, no localstripe runs
    started_at: str

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


def state_file() -> Path:
    configured = os.environ.get(STATE_FILE_VARIABLE)
    return Path(configured) if configured else CHECKOUT / ".lms" / "dev.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # somebody else's process: it exists
    return True


def _read(path: Path) -> DevInstance | None:
    try:
        raw = json.loads(path.read_text())
        return DevInstance(
            pid=int(raw["pid"]),
            checkout=str(raw["checkout"]),
            api_port=int(raw["api_port"]),
            cloud_port=int(raw["cloud_port"]),
            stripe_port=None if raw.get("stripe_port") is None else int(raw["stripe_port"]),
            started_at=str(raw["started_at"]),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as error:
        print(f"Ignoring {path}: it is not a state file written by `lms dev` ({error}).", file=sys.stderr)
        return None


_warned: set[Path] = set()  # say once per command that a file is stale, not once per port


def running() -> DevInstance | None:
    """The ``lms dev`` started from this checkout, if it is still running."""
    path = state_file()
    instance = _read(path)
    if instance is None:
        return None
    if not _alive(instance.pid):
        if path in _warned:
            return None
        _warned.add(path)
        print(
            f"Ignoring {path}: the `lms dev` it describes (pid {instance.pid}, started {instance.started_at})"
            " is no longer running. Start it with `make dev`.",
            file=sys.stderr,
        )
        return None
    return instance


def register(api_port: int, cloud_port: int, stripe_port: int | None) -> Path | None:
    """Record this process as the checkout's running ``lms dev``; None if another one already is."""
    path = state_file()
    current = running()
    if current is not None and current.pid != os.getpid():
        return None
    instance = DevInstance(
        pid=os.getpid(),
        checkout=str(CHECKOUT),
        api_port=api_port,
        cloud_port=cloud_port,
        stripe_port=stripe_port,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(instance), indent=2) + "\n")
    partial.replace(path)  # readers never see half a file
    return path


def unregister() -> None:
    """Remove the state file if it describes this process (a second `lms dev` never removes the first's)."""
    path = state_file()
    instance = _read(path)
    if instance is not None and instance.pid == os.getpid():
        path.unlink(missing_ok=True)


def port(variable: str, default: int) -> int:
    """A port of the running ``lms dev``: the exported variable, else the state file, else the default."""
    raw = os.environ.get(variable)
    if raw is None:
        instance = running()
        found = {
            "LMS_API_PORT": instance.api_port if instance else None,
            "LMS_CLOUD_PORT": instance.cloud_port if instance else None,
            "LMS_STRIPE_PORT": instance.stripe_port if instance else None,
        }[variable]
        raw = str(found if found is not None else default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        sys.exit(f"{variable} must be a port number, not {raw!r}")
    return int(raw)


def not_running_hint() -> str:
    """What to tell a user whose command found no ``lms dev``."""
    return (
        f"is `make dev` running from {CHECKOUT}? It records its ports in {state_file()}; "
        "or export the LMS_*_PORT variables it runs with"
    )
