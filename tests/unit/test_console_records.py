"""The console shows the business record of every workflow the product deploys."""

from __future__ import annotations

from infra.local.console import RECORDS
from workflows.catalog import WORKFLOWS


def test_every_workflow_of_the_catalog_has_its_business_record_in_the_console() -> None:
    # A new workflow without an entry fails here: ops would see its runs but not what they drive.
    assert sorted(RECORDS) == sorted(w.name for w in WORKFLOWS)
