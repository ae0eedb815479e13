"""The `insights` command line.

Every command prints plain text by default and one JSON object with --json. Errors are one sentence
on stderr and a non-zero exit: 2 when the input or the call is wrong, 1 when checks fail.
Heavy modules are imported inside the commands so that `insights --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from insights import __version__
from insights.errors import InsightsError
from insights.pipelines.cli import register as register_pipeline_commands
from insights.reports import cli as reports_cli
from insights.reports import experiment_cli

KIND_CHOICES = ("posts", "post-metrics", "chat", "leads", "assignments")


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", help="warehouse file (default: $INSIGHTS_DB or data/insights.duckdb)")


def _print(obj: Any, as_json: bool) -> None:
    if as_json:
        data = obj.to_dict() if hasattr(obj, "to_dict") else obj
        print(json.dumps(data, indent=2, default=str))
    else:
        print(obj)


def cmd_ingest(args: argparse.Namespace) -> int:
    from insights.ingestion import ingest

    report = ingest(
        args.kind,
        args.files,
        db=args.db,
        mapping=args.mapping,
        timezone=args.timezone,
        delimiter=args.delimiter,
        build=not args.no_build,
    )
    _print(report, args.json)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from insights.demo import run_demo

    summary = run_demo(
        db=args.db,
        out_dir=args.out,
        seed=args.seed,
        n_posts=args.posts,
        n_sessions=args.sessions,
        fresh=not args.keep,
    )
    _print(summary, args.json)
    return 0 if summary.checks_passed else 1


def cmd_warehouse(args: argparse.Namespace) -> int:
    from insights.warehouse import connect

    if args.action == "build":
        from insights.warehouse.build import build

        with connect(args.db, create=False) as con:
            report = build(con)
        _print(report, args.json)
        return 0
    if args.action == "check":
        from insights.warehouse.checks import run_checks

        with connect(args.db, read_only=True) as con:
            checks = run_checks(con)
        _print(checks, args.json)
        return 0 if checks.passed else 1
    from insights.warehouse.summary import summarize

    with connect(args.db, read_only=True) as con:
        summary = summarize(con, db=str(args.db or ""))
    _print(summary, args.json)
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    from insights.privacy import forget

    report = forget(user_id=args.user, email=args.email, phone=args.phone, db=args.db)
    _print(report, args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="insights",
        description="Analytics and experiments for AI-drafted social posts and lead-generation chatbots.",
    )
    parser.add_argument("--version", action="version", version=f"insights {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="load post, metric, chat, lead or assignment logs into the warehouse")
    p.add_argument("kind", choices=KIND_CHOICES, help="which log the files hold")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV, JSON Lines or Parquet (gzip allowed)")
    _add_db(p)
    p.add_argument("--mapping", metavar="MAP.yaml", help="column mapping that adapts an export to the contract")
    p.add_argument(
        "--timezone", default="UTC", metavar="TZ", help="timezone of timestamps without offset (default UTC)"
    )
    p.add_argument("--delimiter", metavar="CHAR", help="CSV delimiter (default: detected from the header)")
    p.add_argument("--no-build", action="store_true", help="load the raw tables only; do not rebuild the marts")
    p.add_argument("--json", action="store_true", help="print the load report as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("demo", help="generate the demo logs, load them, build and check the warehouse")
    _add_db(p)
    p.add_argument("--out", type=Path, default=Path("data/demo"), help="where to write the demo logs")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--posts", type=int, default=2000, help="number of posts (default 2000)")
    p.add_argument("--sessions", type=int, default=20000, help="number of chat sessions (default 20000)")
    p.add_argument("--keep", action="store_true", help="add to an existing warehouse instead of starting afresh")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("warehouse", help="build, check or summarize the warehouse")
    p.add_argument("action", choices=("build", "check", "summary"))
    _add_db(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("forget", help="erase one person's rows from every table")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="ID", help="the person's user id as it appears in the input logs")
    who.add_argument("--email", metavar="EMAIL")
    who.add_argument("--phone", metavar="PHONE")
    _add_db(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_forget)

    # Command groups that live with their own package register themselves here (argparse only; heavy
    # imports happen inside their commands).
    reports_cli.register(sub)
    experiment_cli.register(sub)
    register_pipeline_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except InsightsError as exc:
        print(f"insights: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("insights: interrupted; nothing was written by the unfinished step.", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
