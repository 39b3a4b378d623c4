"""The engine shims cache and change nothing else; the engine limits are pinned to the moto they patch."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

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


# The engine limits (infra/local/engine_limits.py) patch moto's internals: pinned, checked, loud.


def test_the_engine_limits_are_written_for_the_locked_moto() -> None:
    from infra.local import engine_limits

    locked = [
        line.split("==")[1].strip()
        for line in (Path(__file__).parents[2] / "requirements-dev.lock").read_text().splitlines()
        if line.startswith("moto==")
    ]
    assert locked == [engine_limits.MOTO_VERSION]
    engine_limits.check_moto_internals()  # everything the patches replace is where they expect it


def test_a_moved_moto_internal_stops_the_local_cloud_from_starting(monkeypatch) -> None:
    from infra.local import engine_limits

    moved = {**engine_limits.PATCHED, "moto.stepfunctions.parser.models": ("Backend.send_task_success",)}
    monkeypatch.setattr(engine_limits, "PATCHED", moved)
    with pytest.raises(engine_limits.MotoInternalsChanged, match="Backend.send_task_success"):
        engine_limits.check_moto_internals()
    monkeypatch.setattr(engine_limits, "MOTO_VERSION", "0.0.1")
    with pytest.raises(engine_limits.MotoInternalsChanged, match="written for moto 0.0.1"):
        engine_limits.check_moto_internals()


@pytest.mark.parametrize(
    ("payload", "allowed"),
    [
        ("x" * 262_144, True),
        ("x" * 262_145, False),
        ("é" * 131_072, True),  # 262,144 bytes of UTF-8 in half as many characters
        ("é" * 131_073, False),
        ({"blob": "x" * 262_133}, True),  # {"blob":"..."}: 262,144 bytes of compact JSON
        ({"blob": "x" * 262_134}, False),
    ],
)
def test_the_payload_limit_is_262144_bytes_of_utf8(payload: object, allowed: bool) -> None:
    from infra.local import engine_limits

    engine_limits.apply()
    from moto.stepfunctions.parser.asl.component.state import state

    assert engine_limits.within_payload_limit(payload) is allowed
    assert state.is_within_size_quota is engine_limits.within_payload_limit  # what the engine calls


@pytest.mark.parametrize(
    ("error", "error_equals", "caught"),
    [
        ("States.DataLimitExceeded", ["States.ALL"], False),
        ("States.DataLimitExceeded", ["States.DataLimitExceeded"], True),
        ("States.Runtime", ["States.ALL"], False),
        ("States.Runtime", ["States.Runtime"], False),
        ("States.Timeout", ["States.ALL"], True),
        ("States.Timeout", ["States.Timeout"], True),
    ],
)
def test_states_all_never_catches_what_aws_makes_terminal(
    error: str, error_equals: list[str], caught: bool
) -> None:
    from infra.local import engine_limits

    engine_limits.apply()
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    def named(name: str) -> StatesErrorName:
        return StatesErrorName(typ=StatesErrorNameType.from_name(name))

    env = SimpleNamespace(stack=[named(error)])
    ErrorEqualsDecl([named(name) for name in error_equals])._eval_body(env)  # type: ignore[arg-type]
    assert env.stack == [caught]
