"""The engine shims cache and change nothing else."""

from __future__ import annotations

from infra.local import engine_speedups


def test_clients_and_jsonpath_expressions_are_reused() -> None:
    engine_speedups.apply()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import json_path

    first = lambda_eval_utils.boto_client_for(
        region="us-east-1", service="lambda", state_credentials=object()
    )
    second = lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda", state_credentials=None)
    assert first is second
    assert lambda_eval_utils.boto_client_for(region="eu-west-1", service="lambda") is not first
    assert json_path.extract_json("$.order.price.amount", {"order": {"price": {"amount": 4900}}}) == 4900
    assert json_path.parse("$.a") is json_path.parse("$.a")


def test_a_local_cloud_on_another_port_gets_its_own_client(monkeypatch) -> None:
    engine_speedups.apply()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    monkeypatch.setenv("MOTO_PORT", "4001")
    first = lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda")
    monkeypatch.setenv("MOTO_PORT", "4002")
    second = lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda")
    assert first.meta.endpoint_url == "http://localhost:4001"
    assert second.meta.endpoint_url == "http://localhost:4002"
