"""The domain stays a domain: lms/ knows nothing of where it runs or of the orchestrator."""

from __future__ import annotations

import ast
from pathlib import Path

import lms

OUTSIDE_THE_DOMAIN = ("infra", "tasks", "api", "workflows", "moto", "aws_cdk", "constructs")


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_no_domain_module_imports_infrastructure_handlers_or_the_api() -> None:
    offenders = {
        f"{path.name}: {module}"
        for path in Path(lms.__file__).parent.glob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in OUTSIDE_THE_DOMAIN
    }
    assert offenders == set()
