"""`insights report ...`: weekly, run, list and index. Only argparse at import time; the work is imported
inside each command, so `insights --help` stays fast."""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path
from typing import Any

from insights.reports.catalog import CHATBOT_BREAKDOWNS


def register(subparsers: Any) -> None:
    """Add the `report` command group to the `insights` parser's subparsers."""
    report = subparsers.add_parser(
        "report",
        help="write the weekly HTML report, run any report notebook, list them",
        description="Report notebooks in notebooks/ run by papermill; HTML, executed notebook and manifest "
        "under reports/<name>/<period>/, and reports/index.html listing every run.",
    )
    actions = report.add_subparsers(dest="report_action", required=True, metavar="ACTION")

    p = actions.add_parser("weekly", help="write reports/weekly/<YYYY-Www>/report.html (default: last complete week)")
    p.add_argument("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W09 (default: the last complete week)")
    p.add_argument("--db", metavar="PATH", help="warehouse file (default: $INSIGHTS_DB or data/insights.duckdb)")
    p.add_argument("--force", action="store_true", help="write the week again even if its report exists")
    _add_common(p)
    p.set_defaults(func=cmd_report_weekly)

    p = actions.add_parser(
        "chatbot",
        help="write the chatbot-funnel report of any date range: reports/chatbot/<start>_<end>[_<by>]/report.html",
    )
    p.add_argument("--start", metavar="YYYY-MM-DD", help="first day of the sessions read (default: 28 days before end)")
    p.add_argument(
        "--end", metavar="YYYY-MM-DD", help="the day after the last one read (default: the start of this ISO week)"
    )
    p.add_argument("--breakdown", choices=CHATBOT_BREAKDOWNS, help="split the funnel and the health metrics by this")
    p.add_argument("--db", metavar="PATH", help="warehouse file (default: $INSIGHTS_DB or data/insights.duckdb)")
    p.add_argument("--force", action="store_true", help="write the period again even if its report exists")
    _add_common(p)
    p.set_defaults(func=cmd_report_chatbot)

    p = actions.add_parser(
        "plan",
        help="write what to post next week and record its content mix: reports/plan/<YYYY-Www>/report.html",
    )
    p.add_argument("--week", metavar="YYYY-Www", help="the ISO week to plan (default: next week)")
    p.add_argument("--timezone", default="UTC", help="the accounts' local time zone for posting hours (default: UTC)")
    p.add_argument(
        "--no-record",
        dest="record",
        action="store_false",
        help="do not write the week's content mix to the warehouse (recommend.allocations)",
    )
    p.add_argument("--db", metavar="PATH", help="warehouse file (default: $INSIGHTS_DB or data/insights.duckdb)")
    p.add_argument("--force", action="store_true", help="write the week again even if its report exists")
    _add_common(p)
    p.set_defaults(func=cmd_report_plan)

    p = actions.add_parser("run", help="run any report notebook with parameters (papermill style)")
    p.add_argument("name", help="notebook name in notebooks/ without .ipynb (see: insights report list)")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="a parameter; VALUE is read as a Python literal (42, 0.5, True, None) or else kept as text",
    )
    p.add_argument("--period", metavar="LABEL", help="folder of this run (default: the week parameter, else the time)")
    p.add_argument("--force", action="store_true", help="write the period again even if its report exists")
    _add_common(p)
    p.set_defaults(func=cmd_report_run)

    p = actions.add_parser("list", help="the report notebooks and their parameters")
    p.add_argument("--notebooks", type=Path, default=Path("notebooks"), metavar="DIR", help="default: notebooks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report_list)

    p = actions.add_parser("index", help="rewrite reports/index.html from the runs' manifests")
    p.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR", help="default: reports")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report_index)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--notebooks", type=Path, default=Path("notebooks"), metavar="DIR", help="report notebooks (default: notebooks)"
    )
    p.add_argument(
        "--reports", type=Path, default=Path("reports"), metavar="DIR", help="output folder (default: reports)"
    )
    p.add_argument("--json", action="store_true", help="print the run as JSON")


def _emit(obj: Any, as_json: bool) -> None:
    print(json.dumps(obj.to_dict(), indent=2, default=str) if as_json else obj)


def parse_value(text: str) -> Any:
    """A -p value as papermill reads it: a Python literal when it is one, else the text itself.

    >>> parse_value("42"), parse_value("0.5"), parse_value("True"), parse_value("None"), parse_value("2026-W09")
    (42, 0.5, True, None, '2026-W09')
    """
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return value if isinstance(value, (int, float, bool, str, type(None), list, dict)) else text


def _write(args: argparse.Namespace, runner: Any, *positional: Any, **options: Any) -> int:
    """Run a report runner with the options every report command shares, and print the run."""
    run = runner(
        *positional,
        db=args.db,
        force=args.force,
        reports_root=args.reports,
        notebooks_dir=args.notebooks,
        **options,
    )
    _emit(run, args.json)
    return 0


def cmd_report_weekly(args: argparse.Namespace) -> int:
    from insights.reports.runner import weekly

    return _write(args, weekly, args.week)


def cmd_report_chatbot(args: argparse.Namespace) -> int:
    from insights.reports.runner import chatbot

    return _write(args, chatbot, args.start, args.end, breakdown=args.breakdown)


def cmd_report_plan(args: argparse.Namespace) -> int:
    from insights.reports.runner import plan

    return _write(args, plan, args.week, timezone=args.timezone, record=args.record)


def cmd_report_run(args: argparse.Namespace) -> int:
    from insights.reports.runner import run_report

    parameters = {key: parse_value(value) for key, value in args.parameter}
    run = run_report(
        args.name,
        parameters,
        reports_root=args.reports,
        notebooks_dir=args.notebooks,
        force=args.force,
        period=args.period,
    )
    _emit(run, args.json)
    return 0


def cmd_report_list(args: argparse.Namespace) -> int:
    from insights.reports.catalog import list_notebooks

    notebooks = list_notebooks(args.notebooks)
    if args.json:
        print(json.dumps([nb.to_dict() for nb in notebooks], indent=2))
        return 0
    reports = [nb for nb in notebooks if nb.is_report]
    others = [nb for nb in notebooks if not nb.is_report]
    if not reports:
        print(f"No report notebooks in {args.notebooks} (a report notebook has one cell tagged 'parameters').")
    for nb in reports:
        print(f"{nb.name}  ({nb.path}): {nb.title}")
        for prm in nb.user_parameters:
            note = f"  # {prm.help}" if prm.help else ""
            print(f"    -p {prm.name} {prm.default}{note}")
    if others:
        print("Other notebooks (no parameters cell, not run as reports): " + ", ".join(nb.name for nb in others))
    return 0


def cmd_report_index(args: argparse.Namespace) -> int:
    from insights.reports.index import read_entries, update_index

    path = update_index(args.reports)
    if args.json:
        print(json.dumps({"index": str(path), "runs": len(read_entries(args.reports))}))
    else:
        print(f"Wrote {path} ({len(read_entries(args.reports))} runs).")
    return 0
