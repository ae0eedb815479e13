"""`insights pipeline list|run|due`: the scheduled jobs of pipelines/*.yaml.

Only argparse is imported here, so `insights --help` stays fast; the commands import their modules when run.
Exit codes: 0 when all is well, 2 for a wrong call or a bad spec (raised as InsightsError, printed by the
main CLI), 1 when a run fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the `pipeline` command group to the `insights` parser's subcommands."""
    parser = subparsers.add_parser(
        "pipeline",
        help="list, run or catch up the scheduled report pipelines (pipelines/*.yaml)",
        description="Scheduled report jobs: one YAML spec per job in pipelines/. A scheduler (cron, a systemd "
        "timer, CI) calls 'insights pipeline due --run' regularly; see docs/scheduling.md.",
    )
    actions = parser.add_subparsers(dest="pipeline_action", required=True, metavar="ACTION")

    p = actions.add_parser("list", help="each pipeline's schedule, next run, last output and what is due")
    _add_common(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_list)

    p = actions.add_parser("run", help="run one pipeline now (default: the latest period its schedule reached)")
    p.add_argument("name", help="the pipeline, i.e. the spec's file name without .yaml")
    p.add_argument("--period", metavar="LABEL", help="the period to cover instead, e.g. 2026-W09 (must have ended)")
    p.add_argument("--force", action="store_true", help="write the report again even if it exists")
    _add_common(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_run)

    p = actions.add_parser(
        "due",
        help="what is due and not yet produced (catch-up included); --run runs it, oldest first",
    )
    p.add_argument("--run", action="store_true", help="run the due periods, oldest first")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when nothing is due (for cron mail)")
    _add_common(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_due)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now", metavar="ISO", type=_parse_now, help="act as if it were this time (ISO-8601; no offset = UTC)"
    )
    parser.add_argument("--db", metavar="PATH", help="warehouse file (default: $INSIGHTS_DB or data/insights.duckdb)")
    parser.add_argument("--pipelines", type=Path, default=Path("pipelines"), metavar="DIR", help="spec folder")
    parser.add_argument("--notebooks", type=Path, default=Path("notebooks"), metavar="DIR", help="notebook folder")
    parser.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR", help="reports folder")


def _parse_now(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an ISO-8601 time such as 2026-03-09T07:00:00Z (no offset means UTC); got {text!r}"
        ) from None


def _emit(obj: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(obj.to_dict(), indent=2, default=str))
    else:
        print(obj)


def cmd_list(args: argparse.Namespace) -> int:
    from datetime import UTC

    from insights.pipelines.schedule import pipeline_statuses
    from insights.pipelines.spec import load_specs

    specs = load_specs(args.pipelines, notebooks_dir=args.notebooks)
    now = args.now or datetime.now(UTC)
    _emit(pipeline_statuses(specs, now, pipelines_dir=args.pipelines, reports_root=args.reports), args.json)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from insights.pipelines.run import run_pipeline

    result = run_pipeline(
        args.name,
        period=args.period,
        force=args.force,
        now=args.now,
        db=args.db,
        pipelines_dir=args.pipelines,
        notebooks_dir=args.notebooks,
        reports_root=args.reports,
    )
    _emit(result, args.json)
    return 0 if result.ok else 1


def cmd_due(args: argparse.Namespace) -> int:
    from insights.pipelines.run import check_due

    def progress(line: str) -> None:
        # Each start goes to stderr at once, so a scheduler's log shows a long catch-up as it happens.
        print(line, file=sys.stderr, flush=True)

    report = check_due(
        now=args.now,
        run=args.run,
        db=args.db,
        pipelines_dir=args.pipelines,
        notebooks_dir=args.notebooks,
        reports_root=args.reports,
        progress=None if args.json else progress,
    )
    if not (args.quiet and not report.due and not args.json):
        _emit(report, args.json)
    return 1 if report.failed else 0
