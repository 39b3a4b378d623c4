"""How the local cloud evaluates a policy: AWS's rules where moto's evaluator differs."""

from __future__ import annotations

from infra import policies
from infra.local.iam import Check, Principal
from workflows.definition import Access, BucketAccess, Needs

ARNS = policies.Arns(
    partition="aws",
    region="us-east-1",
    account="123456789012",
    table="arn:aws:dynamodb:us-east-1:123456789012:table/lms",
    bucket="arn:aws:s3:::media",
    event_bus="arn:aws:events:us-east-1:123456789012:event-bus/lms",
)


def principal(needs: Needs, *extra: dict[str, object]) -> Principal:
    document = policies.policy_document(policies.statements(needs, ARNS))
    document["Statement"].extend(extra)
    return Principal("arn:aws:sts::123456789012:assumed-role/r/r", "secret", None, (document,))


def listing(prefix: str) -> Check:
    return Check("s3:ListBucket", ARNS.bucket, {"s3:prefix": prefix})


def test_a_listing_grant_whose_condition_does_not_hold_does_not_deny_another_that_does() -> None:
    """moto 5.2.5 turns an Allow with an unmet condition into a Deny; AWS ignores that statement."""
    two_prefixes = principal(
        Needs(
            bucket=(
                BucketAccess(Access.READ, "uploads/", list=True),
                BucketAccess(Access.READ, "media/", list=True),
            )
        )
    )

    assert two_prefixes.allows(listing("uploads/a/b"))
    assert two_prefixes.allows(listing("media/a/b"))
    assert not two_prefixes.allows(listing("certificates/a"))
    assert not two_prefixes.allows(Check("s3:ListBucket", ARNS.bucket))  # no prefix: the condition fails


def test_objects_only_under_the_declared_prefix_and_only_the_declared_actions() -> None:
    reader = principal(Needs(table=Access.READ, bucket=BucketAccess(Access.READ, "media/")))

    assert reader.allows(Check("s3:GetObject", f"{ARNS.bucket}/media/x/master.m3u8"))
    assert not reader.allows(Check("s3:GetObject", f"{ARNS.bucket}/uploads/x"))
    assert not reader.allows(Check("s3:PutObject", f"{ARNS.bucket}/media/x"))
    assert reader.allows(Check("dynamodb:Query", f"{ARNS.table}/index/GSI1"))
    assert not reader.allows(Check("dynamodb:PutItem", ARNS.table))
    assert not reader.allows(Check("dynamodb:Scan", ARNS.table))


def test_an_explicit_deny_wins_and_an_unknown_condition_operator_never_grants() -> None:
    denied = principal(
        Needs(table=Access.READ_WRITE),
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
        },
    )

    assert denied.allows(Check("dynamodb:PutItem", ARNS.table))
    assert not denied.allows(Check("dynamodb:DeleteItem", ARNS.table))
    assert not denied.allows(Check("events:PutEvents", ARNS.event_bus))
