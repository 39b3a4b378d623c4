from __future__ import annotations

import dataclasses

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One node id per operation, so reports and xdist tell the operations apart.

    Schemathesis 4.32 names each generated item after its operation but, under pytest 9.2, leaves
    them all one node id (it still writes the pre-9.2 ``_nodeid`` attribute).
    """
    for item in items:
        label = getattr(item, "operation_label", None)
        node_id = getattr(item, "_id", None)
        if label and node_id is not None and node_id.params is None:
            item._id = dataclasses.replace(node_id, params=label)
