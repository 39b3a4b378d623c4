"""Domain modules on the storage helpers: what must hold and what changes, never how DynamoDB says it.

A module listed here has no botocore import, no conditional-failure handling of its own, and no raw
expression text or raw-form ``Table`` arguments; add a module once it has moved
(``lms.expressions`` + ``Table.put/update/transact(..., when=, otherwise=)`` / ``*_if``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lms

ON_THE_HELPERS = ("identity.py", "learning.py", "certificates.py", "throttle.py")
RAW_KEYWORDS = {"expression", "condition", "names", "values"}  # Table's temporary raw form
RAW_CALLS = {"transact_write", "is_conditional_failure", "serialize", "serialize_key"}
EXPRESSION_WORDS = ("attribute_not_exists(", "attribute_exists(", "if_not_exists(", "SET ", "ADD ", "REMOVE ")


def offences(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text())
    prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # docstrings
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"imports {m}" for m in modules if m.split(".")[0] == "botocore"]
            if isinstance(node, ast.ImportFrom):
                found += [f"imports {a.name}" for a in node.names if a.name in RAW_CALLS | {"ClientError"}]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in RAW_CALLS:
                found.append(f"calls {name}")
            if name in {"put", "update", "delete"}:
                found += [f"{name}({k.arg}=...)" for k in node.keywords if k.arg in RAW_KEYWORDS]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            found += [f"expression text {node.value!r}" for w in EXPRESSION_WORDS if node.value.startswith(w)]
    return found


@pytest.mark.parametrize("module", ON_THE_HELPERS)
def test_the_module_states_conditions_and_changes_through_the_storage_helpers(module: str) -> None:
    assert offences(Path(lms.__file__).parent / module) == []
