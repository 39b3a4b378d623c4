"""Every workflow of the catalog (and throwaway ones added only through it) synthesises from its
declaration: each function's IAM policy is exactly what it declared, its limits and package are the
declared ones, and CDK fills the placeholders the ASL uses (the ones the local cloud fills)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.bundling import locked_closure, locked_distributions
from infra.constants import API_PACKAGE
from infra.stack import api_needs
from tests.throwaway import THROWAWAY, UPLOAD
from workflows import catalog
from workflows.definition import STARTER_HANDLER, Access, Needs, ScheduleTrigger, TaskFunction, Workflow, Zip
from workflows.purchase import PURCHASE

WORKFLOWS = (*catalog.WORKFLOWS, *THROWAWAY)
INSPECTION_ACTIONS = {
    "states:ListExecutions",
    "states:DescribeStateMachine",
    "states:StartExecution",  # a re-run (ops), event-triggered workflows included
    "states:DescribeExecution",
    "states:GetExecutionHistory",
    "states:DescribeStateMachineForExecution",
    "states:RedriveExecution",
}
TABLE_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def logical_id(stack: Any, construct: Any) -> str:
    return str(stack.resolve(stack.get_logical_id(construct.node.default_child)))


def granted(template_json: dict[str, Any], stack: Any, function: Any) -> dict[str, list[dict[str, Any]]]:
    """What the function's role may do, by the resource each statement is about."""
    role = logical_id(stack, function.role)
    policies = [
        r
        for r in template_json["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"].get("Roles", [])
    ]
    assert len(policies) == 1, f"{role}: one policy, no other grants"
    assert "ManagedPolicyArns" not in template_json["Resources"][role]["Properties"]
    kinds: dict[str, list[dict[str, Any]]] = {}
    for statement in _role_statements(template_json, role):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resource = json.dumps(statement["Resource"])
        if statement["Resource"] == "*":
            kind = "callbacks" if all(a.startswith("states:SendTask") for a in actions) else "xray"
        elif set(actions) <= INSPECTION_ACTIONS and actions != ["states:StartExecution"]:
            kind = "inspect"
        else:
            kind = next(
                name
                for marker, name in (
                    ("DataTable", "table"),
                    ("DataMedia", "bucket"),
                    ("StripeSecrets", "stripe"),
                    ("CredentialSigningKey", "credential_key"),
                    ("EventBus", "bus"),
                    ("StateMachine", "start"),
                    ("JwtSigningSecret", "jwt"),
                    ("UnsubscribeSigningSecret", "mail_key"),
                    (":identity/", "mail"),
                    ("Logs", "logs"),
                )
                if marker in resource
            )
        kinds.setdefault(kind, []).append(
            {"actions": set(actions), "resource": resource, "condition": statement.get("Condition")}
        )
    return kinds


def expected_kinds(needs: Needs) -> set[str]:
    return {"logs", "xray"} | {
        kind
        for kind, wanted in (
            ("table", needs.table),
            ("bucket", needs.bucket),
            ("stripe", needs.stripe_secret),
            ("credential_key", needs.credential_signing_key),
            ("callbacks", needs.task_callbacks),
            ("bus", needs.event_bus_put),
            ("start", needs.start_workflows),
            ("inspect", needs.inspect_workflows),
            ("mail", needs.mail),
            ("mail_key", needs.mail or needs.mail_links),
        )
        if wanted
    }


def assert_exactly_declared(grants: dict[str, list[dict[str, Any]]], needs: Needs, who: str) -> None:
    assert set(grants) - {"jwt"} == expected_kinds(needs), who
    table_actions = {a for s in grants.get("table", []) for a in s["actions"]}
    if needs.table is Access.READ:
        assert "dynamodb:GetItem" in table_actions and not table_actions & TABLE_WRITES, who
    elif needs.table is Access.WRITE:
        assert "dynamodb:PutItem" in table_actions and "dynamodb:GetItem" not in table_actions, who
    elif needs.table is Access.READ_WRITE:
        assert {"dynamodb:GetItem", "dynamodb:PutItem"} <= table_actions, who
    statements = grants.get("bucket", [])
    listings = [s for s in statements if s["actions"] == {"s3:ListBucket"}]
    objects = [s for s in statements if s not in listings]
    assert len(objects) == len(needs.bucket_grants), who
    for bucket in needs.bucket_grants:
        wanted = {Access.READ: {"s3:GetObject"}, Access.WRITE: {"s3:PutObject"}}.get(
            bucket.access, {"s3:GetObject", "s3:PutObject"}
        ) | ({"s3:DeleteObject", "s3:PutObjectTagging"} if bucket.delete else set())
        assert any(s["actions"] == wanted and f'"/{bucket.prefix}*"' in s["resource"] for s in objects), who
    # Listing is granted on the bucket, but only for keys under the declared prefix.
    listed = [b.prefix for b in needs.bucket_grants if b.list]
    assert sorted(json.dumps(s["condition"]) for s in listings) == sorted(
        json.dumps({"StringLike": {"s3:prefix": [f"{prefix}*"]}}) for prefix in listed
    ), who
    # Mail: SendEmail only, from the sender identity through the configuration set; nothing else SES.
    for statement in grants.get("mail", []):
        assert statement["actions"] == {"ses:SendEmail"}, who
        assert (
            ":identity/example.com" in statement["resource"] and "ConfigurationSet" in statement["resource"]
        )
    assert all(
        s["actions"] == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
        for s in grants.get("mail_key", [])
    ), who
    started = {s["resource"] for s in grants.get("start", [])}
    for name in needs.start_workflows:
        assert any(f"{_pascal(name)}StateMachine" in resource for resource in started), who
    assert len(started) == len(needs.start_workflows), who
    inspected = grants.get("inspect", [])
    assert len(inspected) == 2 * len(needs.inspect_workflows), who  # the state machine, its executions
    for name in needs.inspect_workflows:
        assert any(f"execution:lms-{name}:*" in s["resource"] for s in inspected), who
        assert any(f"{_pascal(name)}StateMachine" in s["resource"] for s in inspected), who


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


@pytest.fixture(scope="module")
def template_json(synthesized_with_throwaway) -> dict[str, Any]:
    _, template_file, _ = synthesized_with_throwaway
    return json.loads(template_file.read_text())


@pytest.mark.parametrize("fn", [fn for w in WORKFLOWS for fn in w.all_functions], ids=lambda fn: fn.name)
def test_every_function_may_do_exactly_what_it_declared(
    synthesized_with_throwaway, template_json, fn
) -> None:
    _, _, stack = synthesized_with_throwaway
    function = stack.workflows[fn.workflow].functions[fn.name]
    assert_exactly_declared(granted(template_json, stack, function), fn.needs, fn.name)


def test_the_api_may_start_the_api_triggered_workflows_and_no_event_triggered_one(
    synthesized_with_throwaway, template_json
) -> None:
    _, _, stack = synthesized_with_throwaway
    grants = granted(template_json, stack, stack.api.function)
    assert_exactly_declared(grants, api_needs(WORKFLOWS), "api")
    assert not any("ThrowawayUpload" in s["resource"] for s in grants["start"])


@pytest.mark.parametrize("fn", [fn for w in WORKFLOWS for fn in w.all_functions], ids=lambda fn: fn.name)
def test_every_function_has_its_declared_limits_and_environment(
    synthesized_with_throwaway, template_json, fn: TaskFunction
) -> None:
    _, _, stack = synthesized_with_throwaway
    properties = template_json["Resources"][
        logical_id(stack, stack.workflows[fn.workflow].functions[fn.name])
    ]["Properties"]
    assert properties["Timeout"] == fn.timeout_seconds
    assert properties["MemorySize"] == fn.memory_mb
    assert properties["EphemeralStorage"] == {"Size": fn.ephemeral_storage_mb}
    assert properties.get("ReservedConcurrentExecutions") == fn.reserved_concurrency
    workflow = next(w for w in WORKFLOWS if w.name == fn.workflow)
    local = catalog.environment(
        workflow,
        fn,
        catalog.Resources(
            "t",
            "b",
            "bus",
            "arn",
            {w.name: "x" for w in WORKFLOWS},
            mail_from="m",
            mail_configuration_set="c",
            mail_secret_arn="s",
            public_url="u",
            credential_key_secret_arn="arn:key",
        ),
    )
    variables = properties["Environment"]["Variables"]
    assert set(variables) - {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"} == set(local)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_cdk_fills_exactly_the_placeholders_the_asl_uses_and_the_local_cloud_fills(
    synthesized_with_throwaway, template_json, workflow: Workflow
) -> None:
    _, _, stack = synthesized_with_throwaway
    machine = template_json["Resources"][logical_id(stack, stack.workflows[workflow.name].state_machine)]
    properties = machine["Properties"]
    local = catalog.substitutions(
        workflow,
        function_arn={fn.name: f"arn:local:{fn.name}" for fn in workflow.functions},
        resources=catalog.Resources("t", "b", "bus"),
    )
    assert set(properties["DefinitionSubstitutions"]) == catalog.placeholders(workflow) == set(local)
    assert json.loads(properties["DefinitionString"]) == json.loads(catalog.definition(workflow))
    assert json.loads(properties["DefinitionString"])["TimeoutSeconds"] == workflow.timeout_seconds


def test_an_event_trigger_is_a_rule_with_the_declared_pattern_targeting_the_starter(
    synthesized_with_throwaway, template_json
) -> None:
    _, _, stack = synthesized_with_throwaway
    construct = stack.workflows[UPLOAD.name]
    rule = template_json["Resources"][logical_id(stack, construct.rule)]["Properties"]
    assert rule["EventBusName"] == "default"  # where S3 sends "Object Created"
    assert rule["EventPattern"] == UPLOAD.trigger.pattern  # type: ignore[union-attr]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(stack, construct.starter), "Arn"]}


@pytest.mark.parametrize(
    "workflow", [w for w in WORKFLOWS if isinstance(w.trigger, ScheduleTrigger)], ids=lambda w: w.name
)
def test_a_schedule_trigger_is_a_rate_rule_targeting_the_starter_that_names_the_tick(
    synthesized_with_throwaway, template_json, workflow: Workflow
) -> None:
    _, _, stack = synthesized_with_throwaway
    construct = stack.workflows[workflow.name]
    assert isinstance(workflow.trigger, ScheduleTrigger) and construct.rule and construct.starter
    rule = template_json["Resources"][logical_id(stack, construct.rule)]["Properties"]
    minutes = workflow.trigger.rate_seconds // 60
    # CDK writes the rate in the largest whole unit (rate(1 day) for 1,440 minutes).
    count, unit = next(
        (minutes // size, unit)
        for size, unit in ((1440, "day"), (60, "hour"), (1, "minute"))
        if minutes % size == 0
    )
    assert rule["ScheduleExpression"] == f"rate({count} {unit}{'s' if count > 1 else ''})"
    assert "EventBusName" not in rule and "EventPattern" not in rule  # schedules live on the default bus
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(stack, construct.starter), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 4
    starter = template_json["Resources"][logical_id(stack, construct.starter)]["Properties"]
    assert starter["Handler"] == STARTER_HANDLER
    assert starter["Environment"]["Variables"]["LMS_SCHEDULE_RATE_SECONDS"] == str(
        workflow.trigger.rate_seconds
    )


def test_declared_error_names_raise_their_own_alarm(template_json) -> None:
    filters = [
        r["Properties"] for r in template_json["Resources"].values() if r["Type"] == "AWS::Logs::MetricFilter"
    ]
    patterns = {f["MetricTransformations"][0]["MetricName"]: f["FilterPattern"] for f in filters}
    for workflow in WORKFLOWS:
        for error in workflow.error_alarms:
            assert f'$.details.error = "{error}"' in patterns[f"{workflow.name}-{error}"]
    alarmed = {
        r["Properties"].get("MetricName")
        for r in template_json["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert {"purchase-NeedsReconciliation", "throwaway-upload-UnreadableUpload"} <= alarmed


def test_a_container_image_function_synthesises_without_docker(
    synthesized_with_throwaway, template_json
) -> None:
    _, template_file, stack = synthesized_with_throwaway
    inspect = stack.workflows[UPLOAD.name].functions["lms-throwaway-upload-inspect"]
    properties = template_json["Resources"][logical_id(stack, inspect)]["Properties"]
    assert properties["PackageType"] == "Image" and "ImageUri" in properties["Code"]
    assets = json.loads((template_file.parent / "Lms.assets.json").read_text())
    (image,) = [
        i
        for i in assets["dockerImages"].values()
        if i["source"]["dockerFile"] == "tests/throwaway/Dockerfile"
    ]
    staged = template_file.parent / image["source"]["directory"]
    assert image["source"]["dockerFile"] == "tests/throwaway/Dockerfile"
    assert (staged / "tests/throwaway/Dockerfile").exists() and (staged / "lms").is_dir()
    assert not (staged / ".venv").exists() and not (staged / "api").exists()


def test_functions_share_a_package_only_when_they_declare_the_same_one(
    synthesized_with_throwaway, template_json
) -> None:
    _, _, stack = synthesized_with_throwaway
    functions = {fn.name: fn for w in WORKFLOWS for fn in w.all_functions}
    zips = stack.platform.packages.zips
    declared = {fn.packaging for fn in functions.values() if isinstance(fn.packaging, Zip)} | {API_PACKAGE}
    assert set(zips) == declared
    purchase, starter = PURCHASE.functions[0].packaging, UPLOAD.starter.packaging  # type: ignore[union-attr]
    assert isinstance(purchase, Zip) and isinstance(starter, Zip)
    purchase_closure, starter_closure = (
        locked_closure(purchase.dependencies),
        locked_closure(starter.dependencies),
    )
    assert any(line.startswith("stripe==") for line in purchase_closure)
    assert not any(line.startswith(("stripe==", "pyjwt==", "argon2")) for line in starter_closure)
    assert "api" not in purchase.source_packages and "api" in API_PACKAGE.source_packages
    code = {
        name: template_json["Resources"][logical_id(stack, fn)]["Properties"]["Code"]["S3Key"]
        for construct in stack.workflows.values()
        for name, fn in construct.functions.items()
        if isinstance(functions[name].packaging, Zip)
    }
    api = template_json["Resources"][logical_id(stack, stack.api.function)]["Properties"]["Code"]["S3Key"]
    assert len({*code.values(), api}) == len(declared)  # one asset per declared package, none shared


def live_alias(template_json: dict[str, Any], stack: Any, function: Any) -> str:
    """The logical id of the function's ``live`` alias, on a published version of that function."""
    function_id = logical_id(stack, function)
    resources = template_json["Resources"]
    (alias,) = [
        name
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::Alias" and r["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    version = resources[alias]["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
    assert resources[version]["Type"] == "AWS::Lambda::Version"
    assert resources[version]["Properties"]["FunctionName"] == {"Ref": function_id}
    assert resources[alias]["Properties"]["Name"] == "live"
    return alias


def supports_snap_start(properties: dict[str, Any]) -> bool:
    """Lambda SnapStart: managed Python 3.12 and later, zip packages, ephemeral storage up to 512 MB."""
    runtime = properties.get("Runtime", "")
    return (
        runtime.startswith("python3.")
        and int(runtime.removeprefix("python3.")) >= 12
        and properties["EphemeralStorage"]["Size"] <= 512
    )


def test_snapstart_is_on_for_the_api_only(synthesized_with_throwaway, template_json) -> None:
    """A person waits on the API's cold starts, not on a workflow step's: task functions run without
    SnapStart (no snapshot billed per version, no version and alias per function in the stack)."""
    _, _, stack = synthesized_with_throwaway
    api = template_json["Resources"][logical_id(stack, stack.api.function)]["Properties"]
    assert supports_snap_start(api) and api["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    live_alias(template_json, stack, stack.api.function)
    functions = {name: fn for w in stack.workflows.values() for name, fn in w.functions.items()}
    for who, function in functions.items():
        properties = template_json["Resources"][logical_id(stack, function)]["Properties"]
        assert "SnapStart" not in properties, who
    assert "lms-purchase-validate-order" in functions and "lms-throwaway-upload-starter" in functions


def test_the_stack_leaves_room_under_cloudformations_500_resources(synthesized) -> None:
    """CloudFormation refuses a stack over 500 resources (CDK refuses to synthesise one, and the
    product's synthesis keeps that check); the product leaves room for the next workflows."""
    _, template_file = synthesized
    assert len(json.loads(template_file.read_text())["Resources"]) <= 450


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_each_state_machine_invokes_its_functions_and_nothing_else(
    synthesized_with_throwaway, template_json, workflow: Workflow
) -> None:
    _, _, stack = synthesized_with_throwaway
    construct = stack.workflows[workflow.name]
    resources = template_json["Resources"]
    expected = {}
    for fn in workflow.functions:
        function = construct.functions[fn.name]
        properties = resources[logical_id(stack, function)]["Properties"]
        assert "SnapStart" not in properties, fn.name
        expected[fn.placeholder] = {"Fn::GetAtt": [logical_id(stack, function), "Arn"]}
    machine = resources[logical_id(stack, construct.state_machine)]["Properties"]
    substituted = {k: v for k, v in machine["DefinitionSubstitutions"].items() if k in expected}
    assert substituted == expected
    role = machine["RoleArn"]["Fn::GetAtt"][0]
    invoked = [
        statement["Resource"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "lambda:InvokeFunction"
    ]
    if not expected:
        assert invoked == []
        return
    (resource,) = invoked
    resource = resource if isinstance(resource, list) else [resource]
    assert sorted(map(json.dumps, resource)) == sorted(map(json.dumps, expected.values()))


def test_the_api_gateway_invokes_the_api_functions_alias(synthesized_with_throwaway, template_json) -> None:
    _, _, stack = synthesized_with_throwaway
    alias = live_alias(template_json, stack, stack.api.function)
    resources = template_json["Resources"]
    integrations = [
        json.dumps(r["Properties"]["Integration"]["Uri"])
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::Method" and "Integration" in r["Properties"]
    ]
    assert integrations and all(alias in uri for uri in integrations)
    permitted = {
        json.dumps(r["Properties"]["FunctionName"])
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission" and "apigateway" in r["Properties"]["Principal"]
    }
    assert permitted == {json.dumps({"Ref": alias})}


# Every (package, handler module) pair: functions of one module can ship in different packages.
ZIPS = {
    (fn.packaging, fn.handler.rpartition(".")[0]): fn.handler
    for w in catalog.WORKFLOWS
    for fn in w.all_functions
    if isinstance(fn.packaging, Zip)
}


@pytest.mark.parametrize(
    ("packaging", "handler"),
    [
        *((packaging, handler) for (packaging, _), handler in ZIPS.items()),
        (UPLOAD.starter.packaging, STARTER_HANDLER),
        (API_PACKAGE, "api.app.handler"),
    ],  # type: ignore[union-attr], ids=lambda v: str(v)[:40]
)
def test_each_handler_imports_with_only_its_declared_dependencies(packaging: Zip, handler: str) -> None:
    """A handler importing a distribution its group lacks would fail in AWS: fail here instead."""
    allowed = {line.split("==")[0] for line in locked_closure(packaging.dependencies)}
    locked = locked_distributions()
    script = f"""
import importlib, importlib.metadata as md, sys
blocked_dists = {sorted(locked - allowed)!r}
blocked = {{m for m, dists in md.packages_distributions().items()
           if any(d.lower().replace("_", "-") in blocked_dists for d in dists)}}
blocked |= {{"api", "tasks", "workflows", "lms", "infra"}} - {set(packaging.source_packages)!r}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"{{name}} is not in this function's package", name=name)
sys.meta_path.insert(0, Block())
# Handlers import their domain on first call; the before-snapshot hooks import all of it.
hooks = []
sys.modules["snapshot_restore_py"] = type(sys)("snapshot_restore_py")
sys.modules["snapshot_restore_py"].register_before_snapshot = lambda hook, *args: hooks.append((hook, args))
importlib.import_module({handler.rpartition(".")[0]!r})
for hook, args in hooks:
    hook(*args)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path.cwd())
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_video_tasks_that_run_ffmpeg_are_images_and_the_api_package_has_no_ffmpeg(
    synthesized_with_throwaway, template_json
) -> None:
    _, template_file, stack = synthesized_with_throwaway
    from workflows.video import VIDEO

    for fn in VIDEO.functions:
        resource = template_json["Resources"][logical_id(stack, stack.workflows["video"].functions[fn.name])]
        is_image = resource["Properties"].get("PackageType") == "Image"
        assert is_image is (fn.state in {"Probe", "Split", "Transcode", "TranscodeChunk", "Thumbnails"}), (
            fn.name
        )
    assets = json.loads((template_file.parent / "Lms.assets.json").read_text())
    (image,) = [i for i in assets["dockerImages"].values() if i["source"]["dockerFile"] == VIDEO_DOCKERFILE]
    dockerfile = (template_file.parent / image["source"]["directory"] / VIDEO_DOCKERFILE).read_text()
    assert "ffmpeg" in dockerfile
    api = next(
        r["Properties"]
        for r in template_json["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == "api.app.handler"
    )
    asset_hash = json.dumps(api["Code"]["S3Key"]).split(".zip")[0].split('"')[-1]
    staged = template_file.parent / assets["files"][asset_hash]["source"]["path"]
    assert (staged / "api").is_dir()  # the API's own package, staged by synth
    assert not [p for p in staged.rglob("*") if p.name in ("ffmpeg", "ffprobe")]


VIDEO_DOCKERFILE = "containers/video/Dockerfile"


# Statements CDK adds on its own for every role (log delivery, X-Ray) and the API's JWT secret (a
# CDK-only resource): everything else must be exactly what infra.policies derives.
_PLATFORM_STATEMENT_PREFIXES = ("logs:", "xray:")


def _triples(statements: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(action, resource, condition) for every combination a statement allows."""
    found = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        condition = json.dumps(statement.get("Condition"), sort_keys=True)
        for action in actions:
            if action.startswith(_PLATFORM_STATEMENT_PREFIXES):
                continue
            for resource in resources:
                if "JwtSigningSecret" in json.dumps(resource):
                    continue
                found.add((action, json.dumps(resource, sort_keys=True), condition))
    return found


def _role_statements(template_json: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The role's statements: its one inline policy, plus the parts CDK moves into customer-managed
    "OverflowPolicy" documents when the inline one would pass IAM's size limit (the API role, which
    may inspect every workflow, does once the catalog and the test stack's throwaways are eleven)."""
    return [
        statement
        for r in template_json["Resources"].values()
        if (
            r["Type"] == "AWS::IAM::Policy"
            or (
                r["Type"] == "AWS::IAM::ManagedPolicy"
                and "Part of the policies for" in r["Properties"].get("Description", "")
            )
        )
        and {"Ref": role} in r["Properties"].get("Roles", [])
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def _derived(stack: Any, found: list[Any]) -> set[tuple[str, str, str]]:
    return _triples([stack.resolve(statement.document()) for statement in found])


@pytest.mark.parametrize("fn", [fn for w in WORKFLOWS for fn in w.all_functions], ids=lambda fn: fn.name)
def test_each_role_grants_exactly_the_statements_the_local_cloud_enforces(
    synthesized_with_throwaway, template_json, fn: TaskFunction
) -> None:
    """One source: infra.policies.statements, which the local cloud attaches to the function's role."""
    from infra import policies

    _, _, stack = synthesized_with_throwaway
    function = stack.workflows[fn.workflow].functions[fn.name]
    synthesised = _triples(_role_statements(template_json, logical_id(stack, function.role)))
    assert synthesised == _derived(stack, policies.statements(fn.needs, stack.platform.arns())), fn.name


def test_the_api_role_grants_exactly_the_statements_the_local_cloud_enforces(
    synthesized_with_throwaway, template_json
) -> None:
    from infra import policies

    _, _, stack = synthesized_with_throwaway
    synthesised = _triples(_role_statements(template_json, logical_id(stack, stack.api.function.role)))
    derived = _derived(stack, policies.statements(api_needs(WORKFLOWS), stack.platform.arns()))
    assert synthesised == derived
    assert any(a == "s3:PutObject" and "/uploads/*" in r for a, r, _ in synthesised)
    assert not any(a == "s3:PutObject" and "/media/*" in r for a, r, _ in synthesised)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_each_state_machine_role_grants_exactly_what_the_local_engine_is_allowed(
    synthesized_with_throwaway, template_json, workflow: Workflow
) -> None:
    from infra import policies
    from infra.task_function import invoke_target

    _, _, stack = synthesized_with_throwaway
    construct = stack.workflows[workflow.name]
    machine = template_json["Resources"][logical_id(stack, construct.state_machine)]["Properties"]
    synthesised = _triples(_role_statements(template_json, machine["RoleArn"]["Fn::GetAtt"][0]))
    function_arns = {
        fn.name: invoke_target(construct.functions[fn.name]).function_arn for fn in workflow.functions
    }
    derived = policies.state_machine_statements(workflow, stack.platform.arns(), function_arns)
    assert synthesised == _derived(stack, derived)
