"""Purchases: the rules of the purchase-to-enrollment workflow, of refunds and of Stripe webhooks.

By responsibility: :mod:`.records` (transaction items, reads, listings, shared writes),
:mod:`.checkout` (the API starting a purchase), :mod:`.steps` (the workflow's steps),
:mod:`.refunds` and :mod:`.webhooks`. The names callers use are re-exported here.
"""

from lms.purchases.checkout import claim_purchase, release_lock, transaction_id_for
from lms.purchases.records import (
    AlreadyEnrolledError,
    get_transaction,
    list_all_transactions,
    list_user_transactions,
    owned_by,
    require_transaction,
    transaction_item,
)
from lms.purchases.refunds import (
    SweepReport,
    TransactionNotRefundableError,
    admin_refund,
    finish_if_stopped,
    refund_payment,
    sweep_pending_refunds,
)
from lms.purchases.steps import (
    PAYMENT_FAILED_ERROR,
    Enrolled,
    EnrollmentFailedError,
    Order,
    OrderNotValidError,
    PaymentResolution,
    await_payment,
    close_transaction,
    create_payment_intent,
    describe_error,
    enroll_student,
    pending_transaction_item,
    resolve_payment,
    validate_order,
)
from lms.purchases.webhooks import PaymentCallbacks, process_event

__all__ = [
    "PAYMENT_FAILED_ERROR",
    "AlreadyEnrolledError",
    "Enrolled",
    "EnrollmentFailedError",
    "Order",
    "OrderNotValidError",
    "PaymentCallbacks",
    "PaymentResolution",
    "SweepReport",
    "TransactionNotRefundableError",
    "admin_refund",
    "await_payment",
    "claim_purchase",
    "close_transaction",
    "create_payment_intent",
    "describe_error",
    "enroll_student",
    "finish_if_stopped",
    "get_transaction",
    "list_all_transactions",
    "list_user_transactions",
    "owned_by",
    "pending_transaction_item",
    "process_event",
    "refund_payment",
    "release_lock",
    "require_transaction",
    "resolve_payment",
    "sweep_pending_refunds",
    "transaction_id_for",
    "transaction_item",
    "validate_order",
]
