"""The domain stays a domain: lms/ knows nothing of where it runs or of the orchestrator."""

from __future__ import annotations

import ast
from pathlib import Path

import lms

OUTSIDE_THE_DOMAIN = ("infra", "tasks", "api", "workflows", "moto", "aws_cdk", "constructs")
# Step Functions' own error names (task tokens, executions, its States.* family): only the adapters
# outside lms/ (workflows/) may name them.
ORCHESTRATOR_ERROR_NAMES = (
    "TaskTimedOut",
    "TaskDoesNotExist",
    "InvalidToken",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "States.",
)
DOMAIN_MODULES = sorted(Path(lms.__file__).parent.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def orchestrator_names(path: Path) -> set[str]:
    """Orchestrator error names in the module's code: its strings and identifiers, docstrings aside."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    words = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    } | {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return {name for name in ORCHESTRATOR_ERROR_NAMES for word in words if name in word}


def test_no_domain_module_imports_infrastructure_handlers_or_the_api() -> None:
    offenders = {
        f"{path.relative_to(Path(lms.__file__).parent)}: {module}"
        for path in DOMAIN_MODULES
        for module in imported_modules(path)
        if module.split(".")[0] in OUTSIDE_THE_DOMAIN
    }
    assert offenders == set()


def test_no_domain_module_names_the_orchestrators_errors() -> None:
    offenders = {
        f"{path.relative_to(Path(lms.__file__).parent)}: {name}"
        for path in DOMAIN_MODULES
        for name in orchestrator_names(path)
    }
    assert offenders == set()


def test_the_check_sees_an_orchestrator_error_name(tmp_path: Path) -> None:
    module = tmp_path / "adapter.py"
    module.write_text('DEAD = frozenset({"TaskTimedOut"})\nif code == "States.Timeout":\n    pass\n')
    assert orchestrator_names(module) == {"TaskTimedOut", "States."}
