"""Plain-text tables for the warehouse's reports (printed by the CLI and in notebooks)."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Collection[int] = ()) -> str:
    """Align `rows` under `headers`; columns whose index is in `right` are right-aligned (numbers).

    >>> print(text_table(["model", "rows"], [["a", 1], ["bb", 20]], right={1}))
    model  rows
    a         1
    bb       20
    """
    cells = [[str(h) for h in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)
