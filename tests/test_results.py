"""The shared table result: one set of rows, shown the same way in a terminal, Markdown, HTML and frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from insights.results import TableResult, format_cell, format_percent


@dataclass(frozen=True)
class Steps(TableResult):
    names: tuple[str, ...]
    counts: tuple[int, ...]

    @property
    def title(self) -> str:
        return "Funnel <demo>"

    def rows(self) -> list[dict[str, Any]]:
        return [{"step": n, "n_units": c} for n, c in zip(self.names, self.counts, strict=True)]

    def summary_lines(self) -> list[str]:
        return [f"{format_percent(self.counts[-1] / self.counts[0])} reach the last step."]


RESULT = Steps(("start", "lead | captured"), (2000, 150))


def test_every_view_shows_the_same_rows() -> None:
    text = str(RESULT)
    assert text.splitlines()[0] == "Funnel <demo>"
    assert "7.5% reach the last step." in text
    assert "2,000" in text and "lead | captured" in text
    markdown = RESULT.to_markdown()
    assert "| step | n_units |" in markdown and "lead \\| captured" in markdown
    page = RESULT._repr_html_()
    assert "Funnel &lt;demo&gt;" in page and "<td>2,000</td>" in page
    assert RESULT.to_arrow().column("n_units").to_pylist() == [2000, 150]


def test_frames_hold_machine_values() -> None:
    frame = RESULT.to_pandas()
    assert frame["n_units"].tolist() == [2000, 150]
    assert RESULT.to_polars()["step"].to_list() == ["start", "lead | captured"]


def test_cells_read_for_people() -> None:
    assert [format_cell(v) for v in (None, True, 3.0, 0.123456, "x")] == ["", "yes", "3", "0.1235", "x"]
