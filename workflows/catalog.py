"""Every workflow the product deploys: its ASL file, its task functions and its version.

The local cloud and the CDK app both read this catalog, so a workflow added here is deployed by
both. ASL files use ``${Placeholder}`` for ARNs and names; :func:`substitutions` fills them.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

STATE_MACHINES_DIR = Path(__file__).resolve().parent.parent / "state-machines"


@dataclass(frozen=True)
class TaskFunction:
    """A task Lambda: ``handler`` is the dotted path of a function in ``tasks/``."""

    placeholder: str  # the ${...} name in the ASL file, e.g. "ValidateOrderFunctionArn"
    name: str  # the function name, e.g. "lms-purchase-validate-order"
    handler: str  # e.g. "tasks.purchase.validate_order"


@dataclass(frozen=True)
class Workflow:
    name: str
    asl_file: str
    execution_prefix: str
    functions: tuple[TaskFunction, ...] = field(default_factory=tuple)

    @property
    def path(self) -> Path:
        return STATE_MACHINES_DIR / self.asl_file

    @property
    def state_machine_name(self) -> str:
        return f"lms-{self.name}"

    def execution_name(self, business_key: str) -> str:
        """Execution names are business keys: idempotent starts, findable by ops."""
        return f"{self.execution_prefix}-{business_key}"[:80]

    @property
    def version(self) -> str:
        return _digest(self.path)


@functools.cache
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


# Workflows are added here as they are built (see the README's status table).
WORKFLOWS: tuple[Workflow, ...] = ()


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
