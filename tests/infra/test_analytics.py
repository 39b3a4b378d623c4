"""The synthesised event lake names the same table, columns, partition layout and workgroup as the
local lake and the report SQL (lms.analytics.lake), and its rules transform events with the same
paths the local Firehose applies (record_of)."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from lms import keys
from lms.analytics import lake


def _one(template: Any, kind: str) -> dict[str, Any]:
    found = template.find_resources(kind)
    assert len(found) == 1, found
    return next(iter(found.values()))["Properties"]  # type: ignore[no-any-return]


def test_the_glue_table_has_the_lakes_columns_and_projects_the_day_partition(synthesized) -> None:
    template, _ = synthesized
    table = _one(template, "AWS::Glue::Table")["TableInput"]
    assert table["Name"] == lake.TABLE
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == list(lake.COLUMNS)
    assert table["PartitionKeys"] == [{"Name": lake.PARTITION_COLUMN, "Type": "string"}]
    assert table["Parameters"]["projection.enabled"] == "true"
    assert table["Parameters"][f"projection.{lake.PARTITION_COLUMN}.format"] == "yyyy-MM-dd"
    assert _one(template, "AWS::Glue::Database")["DatabaseInput"]["Name"] == lake.LAKE_DATABASE


def test_firehose_writes_parquet_by_event_day_under_the_lake_prefix(synthesized) -> None:
    template, _ = synthesized
    stream = _one(template, "AWS::KinesisFirehose::DeliveryStream")
    destination = stream["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == f"{keys.LAKE_EVENTS_PREFIX}dt=!{{partitionKeyFromQuery:dt}}/"
    conversion = destination["DataFormatConversionConfiguration"]
    assert "ParquetSerDe" in conversion["OutputFormatConfiguration"]["Serializer"]
    assert conversion["SchemaConfiguration"]["TableName"] == lake.TABLE
    assert conversion["SchemaConfiguration"]["DatabaseName"] == lake.LAKE_DATABASE
    assert stream["DeliveryStreamEncryptionConfigurationInput"]["KeyType"] == "AWS_OWNED_CMK"


def test_every_typed_event_goes_to_the_stream_with_the_local_record_paths(synthesized) -> None:
    template, _ = synthesized
    rules = template.find_resources("AWS::Events::Rule", {"Properties": {"Name": lake.PRODUCT_EVENTS_RULE}})
    assert len(rules) == 1
    rule = next(iter(rules.values()))["Properties"]
    assert rule["EventPattern"] == lake.product_events_pattern()
    transformer = rule["Targets"][0]["InputTransformer"]
    assert set(transformer["InputPathsMap"].values()) == set(lake.PRODUCT_EVENT_PATHS.values())
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Name": lake.EXECUTIONS_RULE,
            "EventPattern": Match.object_like({"source": [lake.EXECUTION_STATUS_SOURCE]}),
        },
    )


def test_the_workgroup_enforces_the_result_location_and_a_scan_limit(synthesized) -> None:
    template, _ = synthesized
    workgroup = _one(template, "AWS::Athena::WorkGroup")
    assert workgroup["Name"] == lake.ANALYTICS_WORKGROUP
    configuration = workgroup["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] > 0
    assert keys.ATHENA_RESULTS_PREFIX in json.dumps(configuration["ResultConfiguration"]["OutputLocation"])
