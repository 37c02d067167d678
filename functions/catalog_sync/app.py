"""Every 15 minutes (ScheduleV2): 1C nomenclature, groups and prices → Bitrix24 catalog (bridge.catalog)."""

from __future__ import annotations

from bridge.catalog.runs import run_nomenclature
from bridge.handlers import Invocation, count, run_marker, scheduled


@scheduled
@run_marker("catalog-sync")
def handler(run: Invocation) -> dict[str, object]:
    ports = run.ports
    # Stop starting batches before Lambda's own timeout; the next run resumes from the manifests.
    report = run_nomenclature(ports, budget_s=run.budget_s(ports.mapping.catalog.stop_before_timeout_s))
    for name, value in report.counts.items():
        count("Catalog" + "".join(w.title() for w in name.split()), value)
    count("CatalogItemsFailed", report.failed)  # alarmed in template.yaml (CatalogItemsFailedAlarm)
    return report.as_dict()
