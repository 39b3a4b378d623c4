"""Task handler of reminder mail (``state-machines/reminder-mail.asl.json``).

Cold start: importing this module loads only Powertools, :mod:`tasks.runtime` and
:mod:`lms.snapstart`; the handler imports the domain inside its body (see :mod:`tasks.purchase`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-reminder-mail")
preload("lms.reminder_mail", "lms.mail", "lms.events", "lms.table", "workflows.reminder_mail")


@task_handler(logger)
def mail_deciders(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import reminder_mail
    from lms.events import HumanTaskReminder
    from lms.table import Table
    from workflows.reminder_mail import MailDecidersInput

    request = MailDecidersInput.model_validate(event)
    result = reminder_mail.mail_deciders(Table(), HumanTaskReminder.from_detail(request.reminder))
    if result.recipients:
        metrics.add_metric(name="ReminderMailsSent", unit=MetricUnit.Count, value=len(result.recipients))
    logger.info("reminder mail done", extra={"outcome": result.outcome, "mailed": len(result.recipients)})
    return {"outcome": result.outcome, "recipients": list(result.recipients), "skipped": list(result.skipped)}
