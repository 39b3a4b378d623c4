"""The maintenance workflow: the product's periodic sweeps, run on a schedule by declaration alone.

Every quarter of an hour an EventBridge schedule starts ``maintenance-<tick>`` (the tick's scheduled
time truncated to the period, e.g. ``maintenance-20261129T1530``: a duplicate delivery of one tick is
one execution). Two branches run side by side:

* ``SendReminders`` reminds once for every human task waiting past its reminder time, over every
  kind the catalog declares (``Workflow.human_tasks``, read by the handler from the catalog);
* ``FinishPendingRefunds`` finishes admin refunds left REFUND_PENDING by a request that stopped
  mid-way (Stripe's refund is found, never repeated).

A branch's fault is caught into its own named state and the other branch's work stands; the run then
ends in ``MaintenanceFaulted`` (alarmed) so an operator sees it. A periodic job drives no business
record of its own (``record=None``): ops show its executions by name, and a failed tick may be re-run
or simply left to the next one, as both sweeps are idempotent.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from workflows.definition import Access, Needs, ScheduleTrigger, TaskFunction, Workflow, Zip

RATE_SECONDS = 15 * 60

MAINTENANCE = Workflow(
    name="maintenance",
    trigger=ScheduleTrigger(rate_seconds=RATE_SECONDS),
    functions=(
        # Claims each reminder (a conditional write) and publishes HumanTaskReminder.
        TaskFunction("SendReminders", Needs(table=Access.READ_WRITE, event_bus_put=True), timeout_seconds=60),
        # Finds Stripe's refund (the secret), writes the transaction and enrollment, and publishes
        # EnrollmentRevoked (certificate revocation starts from it).
        TaskFunction(
            "FinishPendingRefunds",
            Needs(table=Access.READ_WRITE, stripe_secret=True, event_bus_put=True),
            timeout_seconds=120,
            packaging=Zip(dependencies=(*Zip().dependencies, "stripe")),
        ),
    ),
    # A tick's sweeps take seconds; a run still going at the next tick's time is stuck.
    timeout_seconds=RATE_SECONDS,
    error_alarms=("MaintenanceFaulted",),
)


class SweepInput(BaseModel):
    """What each branch's task passes (its ``Parameters.Payload``), parsed by tasks.maintenance."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    scheduled_time: str
    execution_name: str = ""
