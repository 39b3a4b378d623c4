"""Purchases (docs/api.md, "Purchases"): start a purchase, read transactions, refunds, the Stripe webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from api import security
from api.models import Id, Page, RequestBody, View
from api.params import Cursor, Limit, PathId
from api.responses import accepted, page_limit
from lms import keys, purchases
from lms.courses import courses
from lms.entities import Course, Enrollment, PaymentMethod, Role, Transaction, TransactionStatus
from lms.errors import ConfigurationError, ForbiddenError, LmsError, NotFoundError
from lms.identity import Principal
from lms.table import Table
from workflows import callbacks

# --- request and response bodies ---------------------------------------------------------------


class PurchaseRequest(RequestBody):
    course_id: Id


class RefundRequest(RequestBody):
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "Refunded by an administrator."


class MoneyView(View):
    amount: int
    currency: str


class TransactionView(View):
    transaction_id: str
    user_id: str
    course_id: str
    amount: MoneyView | None = None
    status: TransactionStatus = Field(
        description="PENDING, COMPLETED, FAILED, EXPIRED, REFUND_PENDING (an admin refund being finished), "
        "REFUNDED or NEEDS_RECONCILIATION"
    )
    reason: str | None = None
    execution_name: str | None = None
    execution_arn: str | None = None
    payment_method: PaymentMethod | None = Field(default=None, description="card, or free for a free course")
    payment_intent_id: str | None = None
    stripe_payment_id: str | None = Field(default=None, description="the Stripe PaymentIntent id")
    client_secret: str | None = Field(default=None, description="present while PENDING, for Stripe.js")
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None

    @classmethod
    def of(cls, transaction: Transaction) -> TransactionView:
        view = cls.model_validate(
            {
                **transaction.model_dump(exclude={"task_token"}),
                "stripe_payment_id": transaction.payment_intent_id,
            }
        )
        if transaction.status != TransactionStatus.PENDING:
            view.client_secret = None
        return view


class TransactionPage(Page[TransactionView]):
    pass


class PurchaseStarted(View):
    transaction_id: str
    execution_name: str
    execution_arn: str
    status: TransactionStatus
    client_secret: str | None = None
    reason: str | None = None


class WebhookReceipt(View):
    received: bool
    outcome: str


router = APIGatewayRouter()
logger = Logger(service="lms-api")


class InvalidSignatureError(LmsError):
    status, code = 400, "INVALID_SIGNATURE"


def _settled(table: Table, transactions: list[Transaction]) -> list[Transaction]:
    """Reads finish admin refunds whose request stopped (REFUND_PENDING for minutes): in AWS the
    people who look at a refund (its student, the admin's REFUND_PENDING list) are what sweeps it.

    Best effort: a refund that cannot be finished now is shown as it is stored, never a 500.
    """
    if not any(t.status == TransactionStatus.REFUND_PENDING for t in transactions):
        return transactions
    from lms import payments

    settled = []
    for transaction in transactions:
        try:
            transaction = purchases.finish_if_stopped(table, payments.gateway(), transaction)
        except Exception as error:  # noqa: BLE001 - the read still answers; the next read retries
            logger.warning(
                "stopped refund not finished",
                extra={"transaction_id": transaction.transaction_id, "error_type": type(error).__name__},
            )
        settled.append(transaction)
    return settled


def _same_user_or_admin(principal: Principal, user_id: str) -> None:
    if principal.user_id != user_id and principal.role != Role.ADMIN:
        raise ForbiddenError("You can only see your own transactions.")


@router.post(
    "/transactions", tags=["purchases"], summary="Buy a course (student): starts the purchase workflow"
)
@security.allow(Role.STUDENT)
def create_transaction(
    body: PurchaseRequest,
    idempotency_key: Annotated[
        str | None, Header(max_length=255, description="replays return the same purchase")
    ] = None,
) -> Response[PurchaseStarted]:
    from workflows import purchase as workflow  # starts executions: only this route needs it

    table = Table()
    course_id = body.course_id
    caller = security.authenticated(
        router,
        table,
        lambda user_id: [
            keys.course(course_id),
            keys.enrollment(user_id, course_id),
            keys.purchase_lock(user_id, course_id),
        ],
    )
    principal = security.require_role(caller.principal, Role.STUDENT)
    course_item = caller.extras.get(keys.course(course_id))
    courses.visible_course(None, Course.from_item(course_item) if course_item else None, course_id)
    if Enrollment.is_active_item(caller.extras.get(keys.enrollment(principal.user_id, course_id))):
        raise purchases.AlreadyEnrolledError("You are already enrolled in this course.")
    transaction_id, execution = workflow.begin_purchase(
        table,
        user_id=principal.user_id,
        course_id=course_id,
        idempotency_key=idempotency_key,
        lock=caller.extras.get(keys.purchase_lock(principal.user_id, course_id)),
    )
    transaction = workflow.wait_for_payment_details(table, transaction_id)
    status = transaction.status if transaction else TransactionStatus.PENDING
    return accepted(
        PurchaseStarted(
            transaction_id=transaction_id,
            execution_name=execution.name,
            execution_arn=execution.arn,
            status=status,
            client_secret=transaction.client_secret
            if transaction and status == TransactionStatus.PENDING
            else None,
            reason=transaction.reason if transaction else None,
        )
    )


@router.get("/transactions", tags=["purchases"], summary="All transactions, newest first (admin)")
@security.allow(Role.ADMIN)
def list_transactions(
    status: Annotated[TransactionStatus | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TransactionPage:
    table = Table()
    security.require_role(security.authenticated(router, table).principal, Role.ADMIN)
    items, next_cursor = purchases.list_all_transactions(
        table, status=status, limit=page_limit(limit), cursor=cursor
    )
    return TransactionPage(
        items=[TransactionView.of(t) for t in _settled(table, items)], next_cursor=next_cursor
    )


@router.get("/transactions/<userId>", tags=["purchases"], summary="A user's transactions, newest first")
@security.signed_in
def list_user_transactions(
    userId: PathId,  # noqa: N803
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TransactionPage:
    table = Table()
    _same_user_or_admin(security.authenticated(router, table).principal, userId)
    items, next_cursor = purchases.list_user_transactions(
        table, userId, limit=page_limit(limit), cursor=cursor
    )
    return TransactionPage(
        items=[TransactionView.of(t) for t in _settled(table, items)], next_cursor=next_cursor
    )


@router.get("/transactions/<userId>/<transactionId>", tags=["purchases"], summary="One transaction's status")
@security.signed_in
def get_transaction(userId: PathId, transactionId: PathId) -> TransactionView:  # noqa: N803
    table = Table()
    transaction_key = keys.transaction(transactionId)
    caller = security.authenticated(router, table, [transaction_key])
    _same_user_or_admin(caller.principal, userId)
    item = caller.extras.get(transaction_key)
    if item is None or item.get("userId") != userId:
        raise NotFoundError(f"No transaction {transactionId} for user {userId}.")
    (transaction,) = _settled(table, [Transaction.from_item(item)])
    return TransactionView.of(transaction)


@router.post(
    "/transactions/<transactionId>/refund",
    tags=["purchases"],
    summary="Refund in Stripe, revoke the enrollment (admin); a retry finishes a REFUND_PENDING refund",
)
@security.allow(Role.ADMIN)
def refund_transaction(transactionId: PathId, body: RefundRequest | None = None) -> TransactionView:  # noqa: N803
    from lms import payments

    table = Table()
    security.require_role(security.authenticated(router, table).principal, Role.ADMIN)
    reason = (body or RefundRequest()).reason  # the body, and the reason in it, are optional
    refunded = purchases.admin_refund(table, payments.gateway(), transactionId, reason=reason)
    return TransactionView.of(refunded)


@router.post("/webhooks/stripe", tags=["purchases"], summary="Stripe webhook (signature verified)")
@security.public  # authenticated by Stripe's signature instead
def stripe_webhook() -> WebhookReceipt:
    from lms import payments

    event_source = router.current_event
    payload = (event_source.decoded_body or "").encode()
    secret = payments.stripe_secrets().webhook_secret
    if not secret:
        raise ConfigurationError(
            "No Stripe webhook secret: set STRIPE_WEBHOOK_SECRET or LMS_STRIPE_SECRET_ARN."
        )
    gateway = payments.gateway()
    try:
        event = gateway.construct_event(payload, event_source.headers.get("stripe-signature"), secret)
    except payments.WebhookSignatureError as error:
        logger.warning("webhook refused", extra={"reason": str(error)})
        raise InvalidSignatureError("The webhook signature is not valid.") from error
    outcome = purchases.process_event(Table(), gateway, callbacks.callbacks(), event)
    logger.info(
        "webhook processed", extra={"event_id": event.id, "event_type": event.type, "outcome": outcome}
    )
    return WebhookReceipt(received=True, outcome=outcome)
