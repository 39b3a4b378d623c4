"""What a workflow is: its ASL file, its task functions, its version and execution naming."""

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
