"""`insights experiment ...`: list the experiments defined in experiments/, read one out.

    insights experiment list [--db PATH] [--json]
    insights experiment analyze ID [--db PATH] [--as-of YYYY-MM-DD] [--json] [--no-html] [--force]

Only argparse at import time. `list` reads the definitions' YAML (and, when there is a warehouse, counts the units
assigned so far) without the statistics stack; `analyze` computes the readout, prints it, and writes its HTML page
through the report runner (reports/experiment/<id>/<day>/report.html, listed in reports/index.html).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the `experiment` command group to the `insights` parser's subparsers."""
    group = subparsers.add_parser(
        "experiment",
        help="list the experiments defined in experiments/, read one out (verdict, table, HTML page)",
        description="Experiments are defined in experiments/<id>.yaml (docs/experiments.md); a readout page is "
        "written to reports/experiment/<id>/<day>/report.html and listed in reports/index.html.",
    )
    actions = group.add_subparsers(dest="experiment_action", required=True, metavar="ACTION")

    p = actions.add_parser("list", help="every definition: id, title, status, unit, variants, primary metrics")
    _add_db(p)
    _add_experiments(p)
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_experiment_list)

    p = actions.add_parser(
        "analyze",
        help="print an experiment's verdict and table, and write its readout page",
        description="Compute the readout of one experiment in the warehouse, print its verdict and table, and "
        "write reports/experiment/<id>/<day>/report.html (day: --as-of, else today, UTC).",
    )
    p.add_argument(
        "id", metavar="ID", help="the experiment's id (experiments/<ID>.yaml; see: insights experiment list)"
    )
    _add_db(p)
    p.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="read the data up to the end of this day, UTC (default: all the data); also the page's folder",
    )
    p.add_argument("--json", action="store_true", help="print the readout's rows (and the page written) as JSON")
    p.add_argument("--no-html", action="store_true", help="print the readout only; write no page")
    p.add_argument("--force", action="store_true", help="write the day's page again even if it exists")
    _add_experiments(p)
    p.add_argument(
        "--reports", type=Path, default=Path("reports"), metavar="DIR", help="output folder (default: reports)"
    )
    p.add_argument(
        "--notebooks", type=Path, default=Path("notebooks"), metavar="DIR", help="report notebooks (default: notebooks)"
    )
    p.set_defaults(func=cmd_experiment_analyze)


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help="warehouse file (default: $INSIGHTS_DB or data/insights.duckdb)")


def _add_experiments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--experiments",
        type=Path,
        default=Path("experiments"),
        metavar="DIR",
        help="experiment definitions (default: experiments)",
    )


# -- list ---------------------------------------------------------------------------------------------------------


def cmd_experiment_list(args: argparse.Namespace) -> int:
    from insights.reports.experiment_catalog import list_definitions

    entries = list_definitions(args.experiments)
    now = dt.datetime.now(dt.UTC)
    units = assigned_units(args.db, [e.id for e in entries])
    if args.json:
        records = []
        for e in entries:
            record = e.to_dict(now)
            if units is not None:
                n, first, last = units.get(e.id, (0, None, None))
                record.update(
                    units_assigned=n,
                    first_assigned_at=first.isoformat() if first else None,
                    last_assigned_at=last.isoformat() if last else None,
                )
            records.append(record)
        print(json.dumps(records, indent=2))
        return 0
    if not entries:
        print(
            f"No experiments are defined in {args.experiments}/; add {args.experiments}/<id>.yaml "
            "(the format is in docs/experiments.md)."
        )
        return 0
    header = ["id", "status", "title", "unit", "variants", "primary metrics"]
    if units is not None:
        header.append("units assigned")
    table: list[list[str]] = [header]
    for e in entries:
        if e.problem is not None:
            continue
        shares = [f" {w:.0%}" for w in e.weights] if e.weights else [""] * len(e.variants)
        variants = ", ".join(f"{v}{w}" for v, w in zip(e.variants, shares, strict=True))
        row = [e.id, e.status(now), e.title, e.unit, variants, ", ".join(e.primary_metrics) or "none"]
        if units is not None:
            n, first, _ = units.get(e.id, (0, None, None))
            row.append(f"{n:,} since {first:%Y-%m-%d}" if n and first else "none yet")
        table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    for e in entries:
        if e.problem is not None:
            print(f"{e.id}: invalid: {e.path} {e.problem}.")
    print(
        f"Status at {now:%Y-%m-%d %H:%M} UTC from each definition's start and end; "
        "read one out with: insights experiment analyze ID"
    )
    return 0


def assigned_units(db: str | None, ids: list[str]) -> dict[str, tuple[int, Any, Any]] | None:
    """Units assigned so far per experiment id (with the first and last assignment), from staging.assignments.

    None when there is no warehouse to ask: `db` not given and the default file missing, or a warehouse without
    the assignments table. A `db` given but missing raises WarehouseNotFoundError.
    """
    from insights import config

    if db is None and not config.db_path(None).is_file():
        return None
    import duckdb

    from insights.warehouse.connection import connect

    with connect(db, read_only=True) as con:
        try:
            rows = con.execute(
                "SELECT experiment_id, count(DISTINCT unit_id), min(assigned_at), max(assigned_at) "
                "FROM staging.assignments WHERE experiment_id IN (SELECT unnest(?)) GROUP BY experiment_id",
                [ids],
            ).fetchall()
        except duckdb.CatalogException:
            return None
    return {str(r[0]): (int(r[1]), r[2], r[3]) for r in rows}


# -- analyze ------------------------------------------------------------------------------------------------------


def cmd_experiment_analyze(args: argparse.Namespace) -> int:
    from insights.reports.experiment_catalog import definition_path
    from insights.reports.runner import existing_warehouse

    # Everything a readout needs is checked before anything is computed or written.
    definition_path(args.id, args.experiments)
    db_file = existing_warehouse(args.db)

    from insights.reports.experiment import compute_readout, load_definition, parse_as_of, readout_dict
    from insights.warehouse.connection import connect

    until = parse_as_of(args.as_of, "experiment analyze")
    experiment = load_definition(args.id, args.experiments)
    with connect(db_file, read_only=True) as con:
        readout, span, _ = compute_readout(con, experiment, as_of=until)
    if not args.json:
        print(readout.to_markdown())
        for note in readout.notes:
            print(f"Note: {note}")
        print(flush=True)

    run = None
    if not args.no_html:
        from insights.reports.runner import experiment_readout

        run = experiment_readout(
            args.id,
            db=db_file,
            as_of=args.as_of,
            force=args.force,
            reports_root=args.reports,
            notebooks_dir=args.notebooks,
            experiments_dir=args.experiments,
        )
    if args.json:
        data = readout_dict(readout, span, until)
        data["report"] = run.to_dict() if run is not None else None
        print(json.dumps(data, indent=2, default=str))
    elif run is not None:
        print(run)
    return 0
