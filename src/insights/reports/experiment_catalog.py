"""The experiment definitions in experiments/ as `insights experiment list` shows them.

Every file goes through the engine's own loader (`insights.experiments.load_experiment`, which reads YAML without
the statistics stack); a file it refuses is listed with the reason instead of stopping the list.

>>> [e.id for e in list_definitions()]  # doctest: +SKIP
['exp-bot-prompt-v2', 'exp-welcome-message']
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from insights.experiments.definition import (
    EXPERIMENTS_DIR,
    Experiment,
    ExperimentDefinitionError,
    ExperimentNotFoundError,
    definition_path,
    known_ids,
    load_experiment,
    status_between,
)

__all__ = [
    "EXPERIMENTS_DIR",
    "ExperimentEntry",
    "ExperimentNotFoundError",
    "definition_path",
    "known_ids",
    "list_definitions",
]
STATUSES = ("planned", "running", "finished")


@dataclass(frozen=True)
class ExperimentEntry:
    """One definition file as a list shows it; `problem` says why it cannot be read (then the rest is empty)."""

    id: str
    path: Path
    title: str = ""
    unit: str = ""
    variants: tuple[str, ...] = ()
    weights: tuple[float, ...] | None = None
    primary_metrics: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    problem: str | None = None

    @classmethod
    def of(cls, experiment: Experiment, path: Path) -> ExperimentEntry:
        return cls(
            id=experiment.id,
            path=path,
            title=experiment.title,
            unit=experiment.unit,
            variants=experiment.variants,
            weights=experiment.weights,
            primary_metrics=tuple(m.name for m in experiment.metrics if m.role == "primary"),
            start=experiment.start,
            end=experiment.end,
        )

    def status(self, now: dt.datetime | None = None) -> str:
        """`planned` before the start, `running` until the end, then `finished` (as `Experiment.status`);
        `invalid` for a file that cannot be read."""
        return "invalid" if self.problem is not None else status_between(self.start, self.end, now)

    def to_dict(self, now: dt.datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status(now),
            "unit": self.unit,
            "variants": list(self.variants),
            "weights": list(self.weights) if self.weights is not None else None,
            "primary_metrics": list(self.primary_metrics),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "path": str(self.path),
            "problem": self.problem,
        }


def list_definitions(folder: str | os.PathLike[str] = EXPERIMENTS_DIR) -> list[ExperimentEntry]:
    """Every definition in `folder`, sorted by id; a file that cannot be read is listed with its problem."""
    entries = []
    for experiment_id in known_ids(Path(folder)):
        path = Path(folder) / f"{experiment_id}.yaml"
        try:
            entries.append(ExperimentEntry.of(load_experiment(path), path))
        except ExperimentDefinitionError as error:
            problem = str(error).removeprefix(f"{path}: ").rstrip(".")
            entries.append(ExperimentEntry(id=experiment_id, path=path, problem=problem))
    return entries
