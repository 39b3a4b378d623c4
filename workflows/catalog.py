"""Every workflow the product deploys. The local cloud and the CDK app both read this catalog.

ASL files use ``${Placeholder}`` for ARNs and names; :func:`substitutions` fills them for either
engine, :func:`definition` adds the declared overall timeout, :func:`environment` gives each
function the variables its declared needs imply, and :func:`integrations` lists what the state
machine itself touches through direct service integrations (read from the ASL, not declared twice).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lms.analytics.lake import ANALYTICS_WORKGROUP, LAKE_DATABASE
from lms.keys import ATHENA_RESULTS_PREFIX
from workflows.definition import (
    STATE_MACHINES_DIR,
    Access,
    ApiTrigger,
    BucketAccess,
    ContainerImage,
    EventTrigger,
    Needs,
    ScheduleTrigger,
    TaskFunction,
    Workflow,
    Zip,
    arn_variable,
)

__all__ = [
    "STATE_MACHINES_DIR",
    "WORKFLOWS",
    "Access",
    "ApiTrigger",
    "BucketAccess",
    "ContainerImage",
    "EventTrigger",
    "Needs",
    "Resources",
    "ScheduleTrigger",
    "TaskFunction",
    "Workflow",
    "Zip",
    "all_functions",
    "arn_variable",
    "definition",
    "environment",
    "event_pattern",
    "handler_modules",
    "integrations",
    "placeholders",
    "render",
    "substitutions",
]


def declared_workflows(
    asl_dir: Path = STATE_MACHINES_DIR, package: str = "workflows"
) -> tuple[Workflow, ...]:
    """Every workflow of the product, found from its files: nobody lists it anywhere.

    Each ``<name>.asl.json`` in ``asl_dir`` is declared by the ``Workflow(name="<name>")`` of the
    module ``<package>.<name>`` (dashes as underscores), or of the longest module its name starts
    with (``certificate-revocation`` is declared in ``workflows/certificate.py`` beside
    ``certificate``). An ASL file without its declaration, or a declaration without its file, is an
    error here, at import, rather than a workflow silently not deployed.
    """
    found: dict[str, Workflow] = {}
    for path in sorted(asl_dir.glob("*.asl.json")):
        name = path.name.removesuffix(".asl.json")
        module = _declaring_module(name, package)
        if module is None:
            raise LookupError(f"{path.name}: no module {package}.{name.replace('-', '_')} declares it")
        declared = {
            value.name: value
            for value in vars(importlib.import_module(module)).values()
            if isinstance(value, Workflow)
        }
        if name not in declared:
            raise LookupError(f"{path.name}: {module} declares no Workflow(name={name!r})")
        for other, workflow in declared.items():
            if not workflow.path.exists():
                raise LookupError(f"{module} declares {other!r}, whose ASL file {workflow.path} is missing")
        found[name] = declared[name]
    return tuple(found.values())


def _declaring_module(name: str, package: str) -> str | None:
    parts = name.split("-")
    for end in range(len(parts), 0, -1):
        module = f"{package}.{'_'.join(parts[:end])}"
        if importlib.util.find_spec(module) is not None:
            return module
    return None


# A workflow is its ASL file, its task module and its declaration; nothing lists it by hand
# (docs/adding-a-workflow.md).
WORKFLOWS: tuple[Workflow, ...] = declared_workflows()

# The names every ASL file may use besides its own function ARNs.
SHARED_PLACEHOLDERS = ("TableName", "BucketName", "EventBusName")


@dataclass(frozen=True)
class Resources:
    """The deployed names a workflow is wired to: CDK tokens in AWS, plain names locally."""

    table_name: str
    bucket_name: str
    event_bus_name: str
    stripe_secret_arn: str | None = None
    state_machine_arns: dict[str, str] = field(default_factory=dict)  # workflow name -> ARN
    # Email (lms.mail): the sender, its configuration set, the unsubscribe-link key, the links' base.
    mail_from: str | None = None
    mail_configuration_set: str | None = None
    mail_secret_arn: str | None = None
    public_url: str | None = None
    credential_key_secret_arn: str | None = None  # the credential issuer's signing key (issue 20)


def all_functions(workflows: tuple[Workflow, ...] = WORKFLOWS) -> dict[str, TaskFunction]:
    return {fn.name: fn for workflow in workflows for fn in workflow.all_functions}


def handler_modules(workflows: tuple[Workflow, ...] = WORKFLOWS) -> list[str]:
    """The modules Lambda imports for the workflows' functions (task modules and the starter)."""
    return sorted({fn.handler.rpartition(".")[0] for fn in all_functions(workflows).values()})


def placeholders(workflow: Workflow) -> set[str]:
    """Every ``${Name}`` the ASL file uses."""
    return set(re.findall(r"\$\{([A-Za-z0-9]+)\}", workflow.path.read_text()))


def substitutions(
    workflow: Workflow, *, function_arn: dict[str, str], resources: Resources
) -> dict[str, str]:
    """Placeholder -> value for one workflow: its function ARNs plus the shared names it uses."""
    shared = _shared_names(resources)
    used = placeholders(workflow)
    mapping = {name: value for name, value in shared.items() if name in used}
    mapping.update({fn.placeholder: function_arn[fn.name] for fn in workflow.functions})
    unknown = used - set(mapping)
    if unknown:
        raise ValueError(f"{workflow.asl_file}: no value for {', '.join(sorted(unknown))}")
    return mapping


def _shared_names(resources: Resources) -> dict[str, str]:
    return {
        "TableName": resources.table_name,
        "BucketName": resources.bucket_name,
        "EventBusName": resources.event_bus_name,
        # The analytics lake (lms.analytics.lake): Athena's workgroup, the Glue database, and where
        # query results go (the workgroup enforces the same location in AWS).
        "AnalyticsWorkGroup": ANALYTICS_WORKGROUP,
        "LakeDatabase": LAKE_DATABASE,
        "AthenaOutputLocation": f"s3://{resources.bucket_name}/{ATHENA_RESULTS_PREFIX}",
    }


def event_pattern(trigger: EventTrigger, resources: Resources) -> dict[str, Any]:
    """The trigger's pattern with its ``${BucketName}``-style placeholders filled with the deployed
    names (CDK tokens in AWS, plain names locally), as :func:`substitutions` fills the ASL's."""
    names = _shared_names(resources)

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, str):
            for name in re.findall(r"\$\{([A-Za-z0-9]+)\}", value):
                if name not in names:
                    raise ValueError(f"an event pattern may use {', '.join(names)}, not ${{{name}}}")
                value = value.replace("${" + name + "}", names[name])
        return value

    return dict(fill(trigger.pattern))


def definition(workflow: Workflow) -> str:
    """The ASL text (placeholders intact) with the declared overall ``TimeoutSeconds``."""
    document = json.loads(workflow.path.read_text())
    declared = document.get("TimeoutSeconds")
    if declared is not None and declared != workflow.timeout_seconds:
        raise ValueError(
            f"{workflow.asl_file} says TimeoutSeconds {declared}, the catalog {workflow.timeout_seconds}"
        )
    document["TimeoutSeconds"] = workflow.timeout_seconds
    return json.dumps(document, indent=2)


def render(workflow: Workflow, mapping: dict[str, str]) -> str:
    """The definition with every ``${Placeholder}`` replaced; an unknown placeholder is an error."""
    text = definition(workflow)
    for placeholder, value in mapping.items():
        text = text.replace("${" + placeholder + "}", value)
    if "${" in text:
        start = text.index("${")
        raise ValueError(f"{workflow.asl_file}: no value for {text[start : text.index('}', start) + 1]}")
    return text


def environment(workflow: Workflow, fn: TaskFunction, resources: Resources) -> dict[str, str]:
    """The variables a function gets, derived from what it declared it needs (nothing else)."""
    needs = fn.needs
    variables: dict[str, str] = {}
    if needs.table:
        variables["LMS_TABLE_NAME"] = resources.table_name
    if needs.bucket:
        variables["LMS_BUCKET_NAME"] = resources.bucket_name
    if needs.event_bus_put:
        variables["LMS_EVENT_BUS_NAME"] = resources.event_bus_name
    if needs.stripe_secret and resources.stripe_secret_arn:
        variables["LMS_STRIPE_SECRET_ARN"] = resources.stripe_secret_arn
    if needs.mail:
        optional = {
            "LMS_MAIL_FROM": resources.mail_from,
            "LMS_MAIL_CONFIGURATION_SET": resources.mail_configuration_set,
            "LMS_MAIL_SECRET_ARN": resources.mail_secret_arn,
            "LMS_PUBLIC_URL": resources.public_url,
        }
        variables.update({name: value for name, value in optional.items() if value})
    elif needs.mail_links and resources.mail_secret_arn:
        variables["LMS_MAIL_SECRET_ARN"] = resources.mail_secret_arn
    if needs.credential_signing_key and resources.credential_key_secret_arn:
        variables["LMS_CREDENTIAL_KEY_SECRET_ARN"] = resources.credential_key_secret_arn
    for name in (*needs.start_workflows, *needs.inspect_workflows):
        variables[arn_variable(name)] = resources.state_machine_arns[name]
    if fn == workflow.starter and isinstance(workflow.trigger, EventTrigger | ScheduleTrigger):
        # The starter reads its workflow from here rather than importing the whole catalog.
        variables.update(
            {
                "LMS_WORKFLOW": workflow.name,
                "LMS_EXECUTION_PREFIX": workflow.execution_prefix,
                "LMS_BUSINESS_KEY": ",".join(workflow.trigger.business_key),
            }
        )
        if isinstance(workflow.trigger, ScheduleTrigger):
            # The key is the tick's scheduled time truncated to the period (one execution per tick).
            variables["LMS_SCHEDULE_RATE_SECONDS"] = str(workflow.trigger.rate_seconds)
        elif workflow.trigger.strip_prefix:
            variables["LMS_BUSINESS_KEY_STRIP"] = workflow.trigger.strip_prefix
    return variables


# Direct service integrations a state machine may use -> (resource, IAM action).
INTEGRATIONS: dict[str, tuple[str, str]] = {
    "arn:aws:states:::dynamodb:getItem": ("table", "dynamodb:GetItem"),
    "arn:aws:states:::dynamodb:putItem": ("table", "dynamodb:PutItem"),
    "arn:aws:states:::dynamodb:updateItem": ("table", "dynamodb:UpdateItem"),
    "arn:aws:states:::dynamodb:deleteItem": ("table", "dynamodb:DeleteItem"),
    "arn:aws:states:::events:putEvents": ("event_bus", "events:PutEvents"),
    "arn:aws:states:::athena:startQueryExecution": ("athena", "athena:StartQueryExecution"),
}
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def integrations(workflow: Workflow) -> dict[str, set[str]]:
    """Resource ("table", "event_bus") -> IAM actions the ASL's direct integrations need."""
    needed: dict[str, set[str]] = {}
    for resource in _task_resources(json.loads(workflow.path.read_text())):
        base = resource.removesuffix(".waitForTaskToken").removesuffix(".sync")
        if base == LAMBDA_INVOKE:
            continue
        if base not in INTEGRATIONS:
            raise ValueError(f"{workflow.asl_file}: {resource} is not in catalog.INTEGRATIONS; add its grant")
        kind, action = INTEGRATIONS[base]
        needed.setdefault(kind, set()).add(action)
    return needed


def _task_resources(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["Resource"]] if node.get("Type") == "Task" and "Resource" in node else []
        return found + [r for value in node.values() for r in _task_resources(value)]
    if isinstance(node, list):
        return [r for value in node for r in _task_resources(value)]
    return []
