"""Every workflow the product deploys. The local cloud and the CDK app both read this catalog.

ASL files use ``${Placeholder}`` for ARNs and names; :func:`substitutions` and :func:`render` fill them.
"""

from __future__ import annotations

from workflows.definition import STATE_MACHINES_DIR, TaskFunction, Workflow
from workflows.purchase import PURCHASE

__all__ = [
    "STATE_MACHINES_DIR",
    "WORKFLOWS",
    "TaskFunction",
    "Workflow",
    "all_functions",
    "render",
    "substitutions",
]

# Workflows are added here as they are built (see the README's status table).
WORKFLOWS: tuple[Workflow, ...] = (PURCHASE,)


def all_functions() -> dict[str, TaskFunction]:
    return {fn.name: fn for workflow in WORKFLOWS for fn in workflow.functions}


def substitutions(
    workflow: Workflow, *, function_arn: dict[str, str], values: dict[str, str]
) -> dict[str, str]:
    """Placeholder -> value for one workflow: its function ARNs plus shared names (table, bus)."""
    return {**values, **{fn.placeholder: function_arn[fn.name] for fn in workflow.functions}}


def render(workflow: Workflow, mapping: dict[str, str]) -> str:
    """The ASL text with every ``${Placeholder}`` replaced; an unknown placeholder is an error."""
    text = workflow.path.read_text()
    for placeholder, value in mapping.items():
        text = text.replace("${" + placeholder + "}", value)
    if "${" in text:
        start = text.index("${")
        raise ValueError(f"{workflow.asl_file}: no value for {text[start : text.index('}', start) + 1]}")
    return text
