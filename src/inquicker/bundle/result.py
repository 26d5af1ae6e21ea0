"""What an import reports back: per-section counts and the health system's new version."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SectionCounts:
    """What an import did to one section: rows created, changed, left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Only acceptance lists are ever removed (that section is replaced wholesale).
    removed: int = 0


@dataclass
class ImportResult:
    """The health system imported, whether it was new, its new data version, and counts."""

    health_system: str
    created: bool
    data_version: int
    counts: dict[str, SectionCounts] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for humans, e.g. ``winter-health created (data version 1): ...``."""
        parts = []
        for name, counts in self.counts.items():
            label = name.replace("_", " ")
            for verb in ("created", "updated", "removed"):
                number = getattr(counts, verb)
                if number:
                    parts.append(f"{number} {label} {verb}")
        verb = "created" if self.created else "updated"
        detail = ", ".join(parts) if parts else "no changes"
        return f"{self.health_system} {verb} (data version {self.data_version}): {detail}"
