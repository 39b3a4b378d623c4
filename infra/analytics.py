"""The event lake in AWS: EventBridge -> Firehose (Parquet via the Glue table) -> S3 -> Athena.

Built from lms.analytics.lake, the same declaration the local lake uses: the Glue table's columns
are ``lake.COLUMNS``, the rules' input transformers are ``lake.PRODUCT_EVENT_PATHS`` and
``lake.EXECUTION_STATUS_PATHS`` (the local Firehose applies the same paths in ``record_of``), and the
objects go under ``lake/events/dt=YYYY-MM-DD/`` (Firehose's dynamic partitioning on the record's
``occurred_at``), read by Athena through partition projection (no crawler, no MSCK REPAIR). The
workgroup enforces the result location and a bytes-scanned limit per query.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Stack, Validations
from aws_cdk import aws_athena as athena
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lms import keys
from lms.analytics import lake

BYTES_SCANNED_CUTOFF = 10 * 1024**3  # 10 GiB per query: about $0.05 at $5/TB
BUFFER_SECONDS = 60  # Firehose's minimum with dynamic partitioning
BUFFER_MIB = 64  # Firehose's minimum with record format conversion
PROJECTION_START = "2024-01-01"


class Analytics(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, bucket: s3.IBucket, event_bus: events.IEventBus
    ) -> None:
        super().__init__(scope, construct_id)
        location = f"s3://{bucket.bucket_name}/{keys.LAKE_EVENTS_PREFIX}"
        day = lake.PARTITION_COLUMN
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=lake.LAKE_DATABASE, description="The LMS event lake"
            ),
        )
        self.table = glue.CfnTable(
            self,
            "Events",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=lake.LAKE_DATABASE,
            table_input=glue.CfnTable.TableInputProperty(
                name=lake.TABLE,
                table_type="EXTERNAL_TABLE",
                partition_keys=[glue.CfnTable.ColumnProperty(name=lake.PARTITION_COLUMN, type="string")],
                parameters={
                    "classification": "parquet",
                    "projection.enabled": "true",
                    f"projection.{lake.PARTITION_COLUMN}.type": "date",
                    f"projection.{lake.PARTITION_COLUMN}.format": "yyyy-MM-dd",
                    f"projection.{lake.PARTITION_COLUMN}.range": f"{PROJECTION_START},NOW",
                    f"projection.{lake.PARTITION_COLUMN}.interval": "1",
                    f"projection.{lake.PARTITION_COLUMN}.interval.unit": "DAYS",
                    "storage.location.template": f"{location}{day}=${{{day}}}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in lake.COLUMNS
                    ],
                    location=location,
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    ),
                ),
            ),
        )
        self.table.add_dependency(self.database)

        role = iam.Role(self, "DeliveryRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[
                    bucket.arn_for_objects(f"{keys.LAKE_EVENTS_PREFIX}*"),
                    bucket.arn_for_objects("lake/errors/*"),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            )
        )
        glue_arn = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
                resources=[
                    f"{glue_arn}:catalog",
                    f"{glue_arn}:database/{lake.LAKE_DATABASE}",
                    f"{glue_arn}:table/{lake.LAKE_DATABASE}/{lake.TABLE}",
                ],
            )
        )
        self.stream = firehose.CfnDeliveryStream(
            self,
            "Stream",
            delivery_stream_name=lake.DELIVERY_STREAM,
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="AWS_OWNED_CMK"
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=f"{keys.LAKE_EVENTS_PREFIX}{lake.PARTITION_COLUMN}=!{{partitionKeyFromQuery:{lake.PARTITION_COLUMN}}}/",
                error_output_prefix="lake/errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=BUFFER_SECONDS, size_in_m_bs=BUFFER_MIB
                ),
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        firehose.CfnDeliveryStream.ProcessorProperty(
                            type="MetadataExtraction",
                            parameters=[
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="MetadataExtractionQuery",
                                    parameter_value=f"{{{lake.PARTITION_COLUMN}: .occurred_at[0:10]}}",
                                ),
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="JsonParsingEngine", parameter_value="JQ-1.6"
                                ),
                            ],
                        )
                    ],
                ),
                data_format_conversion_configuration=firehose.CfnDeliveryStream.DataFormatConversionConfigurationProperty(
                    enabled=True,
                    input_format_configuration=firehose.CfnDeliveryStream.InputFormatConfigurationProperty(
                        deserializer=firehose.CfnDeliveryStream.DeserializerProperty(
                            open_x_json_ser_de=firehose.CfnDeliveryStream.OpenXJsonSerDeProperty()
                        )
                    ),
                    output_format_configuration=firehose.CfnDeliveryStream.OutputFormatConfigurationProperty(
                        serializer=firehose.CfnDeliveryStream.SerializerProperty(
                            parquet_ser_de=firehose.CfnDeliveryStream.ParquetSerDeProperty(
                                compression="SNAPPY"
                            )
                        )
                    ),
                    schema_configuration=firehose.CfnDeliveryStream.SchemaConfigurationProperty(
                        catalog_id=Aws.ACCOUNT_ID,
                        database_name=lake.LAKE_DATABASE,
                        table_name=lake.TABLE,
                        region=Aws.REGION,
                        role_arn=role.role_arn,
                        version_id="LATEST",
                    ),
                ),
            ),
        )
        self.stream.node.add_dependency(role)
        self.stream.add_dependency(self.table)

        def transformer(paths: dict[str, str], extra: dict[str, object]) -> events.RuleTargetInput:
            fields: dict[str, object] = {
                name: events.EventField.from_path(path) for name, path in paths.items()
            }
            return events.RuleTargetInput.from_object({**fields, **extra})

        product = lake.product_events_pattern()
        self.product_rule = events.Rule(
            self,
            "ProductEvents",
            rule_name=lake.PRODUCT_EVENTS_RULE,
            description="Every typed LMS event, once, to the event lake",
            event_bus=event_bus,
            event_pattern=events.EventPattern(source=product["source"]),
            targets=[
                targets.KinesisFirehoseStream(self.stream, message=transformer(lake.PRODUCT_EVENT_PATHS, {}))
            ],
        )
        executions = lake.execution_status_pattern()
        execution_detail = {
            key: events.EventField.from_path(path) for key, path in lake.EXECUTION_DETAIL_PATHS.items()
        }
        self.executions_rule = events.Rule(
            self,
            "ExecutionEnds",
            rule_name=lake.EXECUTIONS_RULE,
            description="How each LMS workflow execution ended, to the event lake",
            event_pattern=events.EventPattern(
                source=executions["source"],
                detail_type=executions["detail-type"],
                detail=executions["detail"],
            ),
            targets=[
                targets.KinesisFirehoseStream(
                    self.stream,
                    message=transformer(
                        lake.EXECUTION_STATUS_PATHS,
                        {**lake.EXECUTION_CONSTANTS, "detail": execution_detail},
                    ),
                )
            ],
        )
        stack = Stack.of(self)
        media = stack.resolve(stack.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
        for prefix, reason in (
            (
                keys.LAKE_EVENTS_PREFIX,
                "Firehose writes the lake's objects and Athena reads them: this prefix only.",
            ),
            ("lake/errors/", "Firehose writes the records it could not convert here, and nowhere else."),
            (
                keys.ATHENA_RESULTS_PREFIX,
                "Athena writes and the reports read query results under this prefix only.",
            ),
        ):
            Validations.of(stack).acknowledge(
                Acknowledgment(id=f"AwsSolutions-IAM5[Resource::<{media}.Arn>/{prefix}*]", reason=reason)
            )
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=lake.ANALYTICS_WORKGROUP,
            description="The LMS analytics reports",
            recursive_delete_option=True,
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{bucket.bucket_name}/{keys.ATHENA_RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )


def attach(stack: Stack, bucket: s3.IBucket, event_bus: events.IEventBus) -> Analytics:
    return Analytics(stack, "Analytics", bucket=bucket, event_bus=event_bus)
