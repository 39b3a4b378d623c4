"""The data construct: the single DynamoDB table and the media bucket."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lms import keys
from lms.video import SPENT_TAG

# How long a deleted or overwritten object stays recoverable as a noncurrent version.
NONCURRENT_DAYS = 30
# An upload's source is removed by its run once the outcome is recorded; this rule catches the rest
# (runs that failed on our side keep it for operators, uploads nobody asked for, abandoned parts).
UPLOAD_DAYS = 7
# Media a run could not remove (tagged SPENT_TAG) goes after this many days.
SPENT_MEDIA_DAYS = 1


def media_lifecycle_rules() -> list[s3.LifecycleRule]:
    """What expires in the media bucket (versioned): every file the product no longer needs."""
    return [
        s3.LifecycleRule(
            id="NoncurrentVersions",
            noncurrent_version_expiration=Duration.days(NONCURRENT_DAYS),
            expired_object_delete_marker=True,
            abort_incomplete_multipart_upload_after=Duration.days(1),
        ),
        s3.LifecycleRule(
            id="UploadSources", prefix=keys.UPLOADS_PREFIX, expiration=Duration.days(UPLOAD_DAYS)
        ),
        s3.LifecycleRule(
            id="SpentMedia",
            prefix=keys.MEDIA_PREFIX,
            tag_filters=SPENT_TAG,
            expiration=Duration.days(SPENT_MEDIA_DAYS),
        ),
    ]


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        string = dynamodb.AttributeType.STRING
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=keys.PK, type=string),
            sort_key=dynamodb.Attribute(name=keys.SK, type=string),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=keys.TTL_ATTRIBUTE,
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index,
                    partition_key=dynamodb.Attribute(name=pk, type=string),
                    sort_key=dynamodb.Attribute(name=sk, type=string),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for index, pk, sk in (
                    (keys.GSI1, keys.GSI1PK, keys.GSI1SK),
                    (keys.GSI2, keys.GSI2PK, keys.GSI2SK),
                )
            ],
        )
        self.access_logs = self._private_bucket(
            "AccessLogs", object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED
        )
        self.bucket = self._private_bucket(
            "Media",
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="media/",
            event_bridge_enabled=True,
            lifecycle_rules=media_lifecycle_rules(),
        )

    def _private_bucket(self, construct_id: str, **options: Any) -> s3.Bucket:
        """SECURITY.md's baseline for every bucket: no public access, encrypted, TLS only, retained."""
        return s3.Bucket(
            self,
            construct_id,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            **options,
        )
