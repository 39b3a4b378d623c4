"""A task token answers once, in the local engine as in AWS.

moto 5.2.5 accepts ``SendTaskSuccess``/``SendTaskFailure`` for a token as long as its execution
runs, even when the token was already answered: the second answer "succeeds" and is dropped.
Step Functions refuses it with ``TaskTimedOut`` ("the task associated with the token has already
been closed"). Code that must tell an answered token from a live one (the Stripe webhook, human
tasks) would pass locally and fail in AWS, so after the first answer a second one is refused with
``TaskTimedOut``. (moto's own ``TaskTimedOut`` cannot be raised in server mode: it has no message
and the server answers 500, so the error here is moto's ``AWSError`` form, like ``InvalidToken``.)

The shim replaces ``CallbackPoolManager.notify`` only if it is still moto's own, so a moto upgrade
that moves it leaves the engine as it is.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

_MODULE = "moto.stepfunctions.parser.asl.eval.callback.callback"
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    try:
        callback = importlib.import_module(_MODULE)
    except ImportError:
        return
    manager = getattr(callback, "CallbackPoolManager", None)
    original = getattr(manager, "notify", None)
    if manager is None or original is None or getattr(original, "_answers_once", False):
        return
    from moto.core.exceptions import AWSError

    class TaskTimedOutError(AWSError):
        TYPE = "TaskTimedOut"
        STATUS = 400

    lock = threading.Lock()

    def notify(self: Any, callback_id: str, outcome: Any) -> bool:
        with lock:  # two concurrent answers: exactly one is delivered
            endpoint = self.get(callback_id)
            if endpoint is not None and getattr(endpoint, "_answered", False):
                raise TaskTimedOutError("Task Timed Out: the task of this token has already been closed.")
            delivered = bool(original(self, callback_id=callback_id, outcome=outcome))
            if delivered and endpoint is not None:
                endpoint._answered = True
            return delivered

    notify._answers_once = True  # type: ignore[attr-defined]
    manager.notify = notify
