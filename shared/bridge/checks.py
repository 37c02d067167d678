"""`check`: is everything in place for the flows to run? One finding per problem, with the fix.

Top layer, beside `bridge.operations`: it reads both systems through the ports, runs setup as a dry
run (which already resolves every name the mapping gives: funnels, stages, user fields, 1C
catalogs) and compares what the systems publish with what the flows call. The evaluation of each
answer is a pure function here, so unit tests hold the rules without sockets; printing is the
command's (`bridge.commands.check`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from bridge.b24.errors import B24Error
from bridge.catalog.resolved import resolved_config as catalog_resolved
from bridge.deals.resolved import resolved_config as deal_resolved
from bridge.domain import onec_sets
from bridge.errors import BridgeError, ConfigurationError
from bridge.parties.resolved import resolved_config as parties_resolved
from bridge.payments.resolved import resolved_config as payments_resolved
from bridge.ports import Ports
from bridge.setup import SetupReport

SETUP_COMMAND = "python -m bridge.cli setup"

# What the flows call, by the scope a webhook needs for it. tests/unit/test_checks.py reads every
# method name in the bridge's source and fails when one is missing here, so a flow calling a new
# method of a new scope cannot pass `check` by accident.
SCOPE_METHODS: Mapping[str, tuple[str, ...]] = {
    "crm": ("crm.deal.*", "crm.company.*", "crm.contact.*", "crm.requisite.*", "crm.timeline.comment.add"),
    "catalog": ("catalog.product.*", "catalog.price.*", "catalog.section.*", "catalog.document.*"),
    "lists": ("lists.add", "lists.field.*", "lists.element.*"),
    "im": ("im.notify.system.add",),
    "bizproc": ("bizproc.workflow.start",),
    "user": ("user.get",),
}
# Called by the «1С» deal tab with a user's application token, never with the webhook: their
# scopes are the local application's (docs/admin-bitrix24.md §5), not the webhook's to check.
APPLICATION_METHODS = frozenset({"app.info", "placement.bind", "placement.unbind"})
# Methods of no scope: `batch` carries the others, `scope` is basic.
SCOPELESS = frozenset({"batch", "scope"})
# A narrower grant that serves the methods the bridge calls (`user.get` of a user's name).
SCOPE_ALTERNATIVES: Mapping[str, frozenset[str]] = {"user": frozenset({"user", "user_basic", "user_brief"})}

# Every 1C set a flow reads or writes (bridge.domain.onec_sets). Optional ones: the flow copes
# without them and says so; a missing one is a note, not a problem.
ONEC_SETS: tuple[str, ...] = tuple(
    value
    for name, value in vars(onec_sets).items()
    if name.isupper()
    and isinstance(value, str)
    and value.split("_", 1)[0]
    in ("Catalog", "Document", "InformationRegister", "AccumulationRegister", "ChartOfCharacteristicTypes")
)
OPTIONAL_SETS: Mapping[str, str] = {
    onec_sets.CONTACT_ROLES: "contact types of contact persons do not travel",
}

# Beyond this, signed 1C pushes (±5 min window) and the pollers' overlap windows get unreliable.
MAX_SKEW_S = 60.0


@dataclass(frozen=True)
class Finding:
    """One problem: what is wrong, where, and what a person does about it."""

    where: str
    what: str
    fix: str

    def line(self) -> str:
        return f"PROBLEM {self.where}: {self.what} — fix: {self.fix}"


@dataclass
class CheckReport:
    checks: list[str] = field(default_factory=list)  # names of the checks that ran
    problems: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # probe answers and other facts worth seeing

    @property
    def ok(self) -> bool:
        return not self.problems

    def ran(self, name: str, findings: Iterable[Finding] = ()) -> None:
        self.checks.append(name)
        self.problems.extend(findings)

    def lines(self) -> list[str]:
        out = [*self.notes, *(p.line() for p in self.problems)]
        if self.ok:
            out.append(f"check: all {len(self.checks)} checks passed")
        else:
            out.append(f"check: {len(self.problems)} problem(s) in {len(self.checks)} checks")
        return out


# ---- pure evaluations ----------------------------------------------------------------------------


def scope_of(method: str) -> str:
    return method.split(".", 1)[0]


def missing_scopes(granted: Iterable[str]) -> list[Finding]:
    have = {str(s).strip().lower() for s in granted}
    findings = []
    for scope, methods in SCOPE_METHODS.items():
        if have & SCOPE_ALTERNATIVES.get(scope, frozenset({scope})):
            continue
        findings.append(
            Finding(
                "Bitrix24 inbound webhook",
                f"scope '{scope}' is not granted (the flows call {', '.join(methods)})",
                f"edit the webhook in Developer resources → Other → Inbound webhook, tick '{scope}', "
                "keep the URL",
            )
        )
    return findings


def published_sets(service_document: Any) -> set[str]:
    """Names in the OData service document (`{"value": [{"name", "url"}]}`, JSON form)."""
    rows = service_document.get("value") if isinstance(service_document, Mapping) else None
    if not isinstance(rows, list):
        raise ValueError("the service document has no 'value' list")
    return {str(r.get("name") or r.get("url")) for r in rows if isinstance(r, Mapping)}


def unpublished(published: Iterable[str]) -> tuple[list[Finding], list[str]]:
    """(problems for required sets missing from the publication, notes for optional ones)."""
    have = set(published)
    findings, notes = [], []
    for name in ONEC_SETS:
        if name in have:
            continue
        if name in OPTIONAL_SETS:
            notes.append(f"note: 1C {name} is not published: {OPTIONAL_SETS[name]}")
            continue
        findings.append(
            Finding(
                "1C OData publication",
                f"{name} is not published",
                "Configurator → Administration → Publish on a web server… / "
                "the «Настройка стандартного интерфейса OData» processing: tick it (docs/admin-1c.md)",
            )
        )
    return findings, notes


def skew_finding(system: str, local: datetime, remote: datetime | None) -> Finding | None:
    if remote is None:
        return None
    skew = (remote - local).total_seconds()
    if abs(skew) <= MAX_SKEW_S:
        return None
    ahead = "ahead of" if skew > 0 else "behind"
    return Finding(
        f"{system} clock",
        f"{abs(skew):.0f} s {ahead} this machine (more than {MAX_SKEW_S:.0f} s)",
        "synchronise the clocks with NTP (the server's and this machine's)",
    )


def http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def iso_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def setup_findings(report: SetupReport) -> list[Finding]:
    """Dry-run setup: its problems as they are, and what it would still create as "not done"."""
    findings = [
        Finding(f"[{step.name}] {p.where}", p.what, p.fix) for step in report.steps for p in step.problems
    ]
    findings += [
        Finding(f"[{step.name}] setup", f"not done yet: {action}", f"run `{SETUP_COMMAND}`")
        for step in report.steps
        for action in step.actions
        if action.startswith("would ")
    ]
    return findings


# ---- the checks ------------------------------------------------------------------------------------

RESOLVED_CONFIGS = (
    ("deals", deal_resolved),
    ("payments", payments_resolved),
    ("catalog", catalog_resolved),
    ("parties", parties_resolved),
)

type SetupRunner = Callable[[Ports], SetupReport]
type Prober = Callable[[Ports, CheckReport], None]


def run_checks(
    ports: Ports,
    *,
    dry_setup: SetupRunner,
    probes: Sequence[Prober] = (),
) -> CheckReport:
    """Every check against the systems `ports` point at; `dry_setup` runs setup as a dry run."""
    report = CheckReport()
    scopes, b24_date = _b24_reachable(ports, report)
    service, onec_date = _onec_reachable(ports, report)
    if scopes is not None:
        report.ran("Bitrix24 webhook scopes", missing_scopes(scopes))
        report.ran("Bitrix24 clock", filter(None, [skew_finding("Bitrix24", ports.clock(), b24_date)]))
    if service is not None:
        try:
            findings, notes = unpublished(published_sets(service))
        except ValueError as error:
            findings, notes = [Finding("1C OData publication", str(error), "check the base URL")], []
        report.notes.extend(notes)
        report.ran("1C OData publication", findings)
        report.ran("1C clock", filter(None, [skew_finding("1C", ports.clock(), onec_date)]))
    if scopes is None or service is None:
        return report  # the rest reads both systems; their problems are already named
    report.ran("setup and mapping against both systems", setup_findings(dry_setup(ports)))
    report.ran("resolved configuration in SyncTable", _resolved_findings(ports))
    for probe in probes:
        probe(ports, report)
    return report


def _b24_reachable(ports: Ports, report: CheckReport) -> tuple[list[str] | None, datetime | None]:
    try:
        answer = ports.b24.call("scope")
    except (B24Error, BridgeError) as error:
        report.ran(
            "Bitrix24 reachable",
            [
                Finding(
                    "Bitrix24",
                    f"not reachable with the webhook in the settings: {error}",
                    "check the webhook URL in the credentials secret and that its user is active",
                )
            ],
        )
        return None, None
    report.ran("Bitrix24 reachable")
    granted = answer.result if isinstance(answer.result, list) else []
    return [str(s) for s in granted], iso_date(answer.time.date_start)


def _onec_reachable(ports: Ports, report: CheckReport) -> tuple[Any, datetime | None]:
    try:
        response = ports.onec.read_raw("")
        document = json.loads(response.text)
    except (BridgeError, ValueError) as error:
        report.ran(
            "1C reachable",
            [
                Finding(
                    "1C OData",
                    f"not reachable with the login in the settings: {error}",
                    "check the base URL (…/odata/standard.odata/), the service user and its password "
                    "in the credentials secret (docs/admin-1c.md)",
                )
            ],
        )
        return None, None
    report.ran("1C reachable")
    return document, http_date(response.headers.get("date"))


def _resolved_findings(ports: Ports) -> list[Finding]:
    findings = []
    for flow, resolved in RESOLVED_CONFIGS:
        try:
            resolved(ports.store).load()
        except ConfigurationError as error:
            findings.append(
                Finding(f"[{flow}] SyncTable", str(error).split(" — ")[0], f"run `{SETUP_COMMAND}`")
            )
    return findings
