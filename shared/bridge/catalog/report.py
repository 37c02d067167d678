"""What a run did (or, with --dry-run, would do)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RunReport:
    flow: str
    dry_run: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)  # one per planned write in a dry run
    failed: int = 0
    stopped: bool = False  # ran out of time; the next run resumes

    def note(self, key: str, line: str | None = None, count: int = 1) -> None:
        self.counts[key] += count
        if line is not None and self.dry_run:
            self.lines.append(line)

    def summary(self) -> str:
        parts = [f"{key} {value}" for key, value in sorted(self.counts.items()) if value]
        verb = "would write" if self.dry_run else "done"
        tail = f"; {self.failed} failed" if self.failed else ""
        tail += "; stopped early, the next run resumes" if self.stopped else ""
        return f"{self.flow} {verb}: {', '.join(parts) or 'nothing to do'}{tail}"

    def as_dict(self) -> dict[str, object]:
        return {
            "flow": self.flow,
            "dry_run": self.dry_run,
            "counts": dict(self.counts),
            "failed": self.failed,
            "stopped": self.stopped,
        }
