"""The ``rapport`` command: targets and settings on a stack, the embedded demo, the local stack, the X API
simulator, the detectors."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rapport_local.deployed import StackAddress
    from rapport_local.stack_client import StackClient


def _shared_dir() -> Path:
    return Path(__file__).resolve().parents[2].parent / "shared"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader left (`rapport ... | head`): say nothing more, and let the interpreter's own flush
        # at exit find somewhere harmless to write instead of printing a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rapport", description=__doc__)
    parser.add_argument(
        "--local", action="store_true", help="act on the local stack `rapport local` serves in this directory"
    )
    _add_stack_flags(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True)

    status = commands.add_parser(
        "status",
        help="where the stack stands: schedules, runs, failures, alarms, X spend, secret, SES",
        description="Reads the deployed stack with your AWS credentials (or, with --local, what the local "
        "stack can answer). The stack is the one samconfig.toml names, unless flags say otherwise. "
        "Examples: rapport status; rapport status --json; "
        "rapport --profile work status --stack-name rapport-test",
    )
    status.add_argument("--json", action="store_true", help="print the report as JSON, for scripts")
    _add_stack_flags(status, default=argparse.SUPPRESS)

    setup = commands.add_parser(
        "setup",
        help="guided set-up, safe to re-run: X keys, SES identities, a test digest, what is missing",
        description="Asks for your X app's four keys (hidden), checks them with X (GET /2/users/me) and "
        "only then stores them in the stack's secret; shows the SES identities' verification state and "
        "offers to send the verification mail again; sends a test digest marked [test] that leaves the "
        "day's digest to come; ends with what is still missing. With --local, on the local stack and "
        "its X simulator. Examples: rapport setup; rapport setup --keep-keys; "
        "rapport --local setup --x-keys-file keys.json",
    )
    keys = setup.add_mutually_exclusive_group()
    keys.add_argument(
        "--x-keys-file",
        type=Path,
        help="JSON with consumer_key, consumer_secret, access_token, access_token_secret (for scripts)",
    )
    keys.add_argument("--keep-keys", action="store_true", help="keep the keys already stored, ask nothing")
    setup.add_argument("--json", action="store_true", help="print the outcome as JSON, for scripts")
    _add_stack_flags(setup, default=argparse.SUPPRESS)

    local = commands.add_parser(
        "local",
        help="serve a local stack to try Rapport on, until Ctrl-C",
        description="Serves on loopback: a local AWS (moto), the X API simulator playing the scenario, and "
        "the admin function behind a local Function URL that checks SigV4 signatures. Prints a line "
        "beginning with 'ready' when it serves and writes its endpoints to .rapport/local.json; other "
        "commands given --local act on it.",
    )
    local.add_argument("--scenario", type=Path, help="scenario file; default: the shipped one")
    local.add_argument("--port", type=int, default=0, help="the admin URL's port; default: a free one")

    run = commands.add_parser(
        "run",
        help="with --local: play hours on the simulated clock (collect, evaluate, digest)",
        description="Advances the local stack's simulated clock hour by hour, running collect, evaluate and "
        "digest as the schedules would. Example: rapport --local run --hours 72",
    )
    run.add_argument("--hours", type=int, default=24, help="hours to play (default 24)")

    admin = commands.add_parser(
        "admin",
        help="with --local: send a JSON request to the admin function and print its answer",
        description='Example: rapport --local admin \'{"action": "add_target", "username": "person_x"}\'',
    )
    admin.add_argument("body", help="the JSON body to POST to the admin URL")
    admin.add_argument("--path", default="/", help="the path under the admin URL (default /)")

    demo = commands.add_parser("demo", help="run the whole pipeline on a local AWS and a local X API")
    demo.add_argument("--scenario", type=Path, help="scenario file (YAML or JSON); default: the shipped one")
    demo.add_argument("--out", type=Path, default=Path("out"), help="where digests and summary.json go")

    detect = commands.add_parser("detect", help="run the question and thanks detectors on a CSV")
    source = detect.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="CSV with a 'text' column; writes text,question,thanks")
    source.add_argument("--evaluate", action="store_true", help="print precision and recall on labelled sets")
    source.add_argument(
        "--train",
        action="store_true",
        help="fit the question detector's weights (writes question_model.json)",
    )
    source.add_argument(
        "--filter-report",
        action="store_true",
        help="what the batched search's candidate filter keeps of tweet-acts and the questions it drops",
    )
    detect.add_argument(
        "--folds", type=int, default=5, help="with --evaluate: cross-validation folds (0: skip, quicker)"
    )
    detect.add_argument(
        "--fold-seed", type=int, default=13, help="with --evaluate: how tweets are dealt to folds"
    )
    detect.add_argument("--me", default=None, help="your username, for thanks addressed to you")
    detect.add_argument("--shared", type=Path, default=_shared_dir(), help="folder holding datasets/")

    xsim = commands.add_parser("xsim", help="serve the X API v2 simulator for a scenario")
    xsim.add_argument("--scenario", type=Path, help="scenario file; default: the shipped one")
    xsim.add_argument("--port", type=int, default=8123)

    digest = commands.add_parser("digest", help="the daily digest")
    digest_commands = digest.add_subparsers(dest="digest_command", required=True)
    preview = digest_commands.add_parser(
        "preview",
        help="render a day's digest from the current data without sending it",
        description="Without --table, plays the scenario on the local stack up to that day's digest hour "
        "(earlier digests sent as usual) and renders that day's digest instead of sending it. With "
        "--table, reads that DynamoDB table through the usual AWS configuration and writes nothing to it.",
    )
    preview.add_argument("--date", type=_iso_date, help="local date (YYYY-MM-DD); default: the last day")
    preview.add_argument("--out", type=Path, help="HTML file to write (a .txt beside it); default: out/")
    preview.add_argument("--html", type=Path, help="with --local: also write the digest's HTML to this file")
    preview.add_argument(
        "--json",
        action="store_true",
        help="with --local: print the digest as one JSON object (its suggestions with their feedback "
        "links, and its unsubscribe link)",
    )
    preview.add_argument("--scenario", type=Path, help="scenario file; default: the shipped one")
    preview.add_argument("--table", help="read this DynamoDB table instead of playing the scenario")

    bench = commands.add_parser("bench", help="seeded worlds: Rapport's X reads against simpler collectors")
    bench.add_argument("--targets", default="10,100,1000", help="comma-separated sizes (default 10,100,1000)")
    bench.add_argument("--days", default="30", help="comma-separated windows in days (default 30)")
    bench.add_argument("--scenario", type=Path, help="compare on this scenario file instead")
    bench.add_argument("--json", action="store_true", help="print the rows as JSON")
    bench.add_argument(
        "--levers", action="store_true", help="Rapport alone, each spend lever turned off in turn"
    )
    bench.add_argument("--every-hours", type=int, default=24, help="hours between collect runs")
    bench.add_argument("--seed", type=int, default=7)

    coldstart = commands.add_parser("coldstart", help="each handler's import time against `import boto3`")
    coldstart.add_argument("--runs", type=int, default=7, help="runs per module; the median is shown")
    coldstart.add_argument("--tracing", action="store_true", help="as deployed with X-Ray tracing on")
    coldstart.add_argument("--top", type=int, default=0, help="also list each handler's N slowest imports")
    coldstart.add_argument("--source", type=Path, help="measure another checkout (e.g. an older commit)")
    coldstart.add_argument(
        "--invoke", action="store_true", help="also import + first invocation, on a local stack"
    )
    coldstart.add_argument("--python", help="measure with another interpreter (its own packages)")
    coldstart.add_argument(
        "--instructions", action="store_true", help="also count instructions (valgrind): steady when busy"
    )
    coldstart.add_argument(
        "--parts", action="store_true", help="also each handler's import by library, then Rapport (valgrind)"
    )
    coldstart.add_argument(
        "--bytecode", action="store_true", help="Rapport's code compiled, as a build with python3.13 ships it"
    )
    calls = commands.add_parser(
        "calls", help="DynamoDB calls per run of collect, evaluate and digest, on a seeded world"
    )
    calls.add_argument("--targets", default="10,1000", help="comma-separated sizes (default 10,1000)")
    calls.add_argument("--hours", type=int, default=8, help="hourly ticks after the targets are added")
    calls.add_argument("--seed", type=int, default=7)

    crash = commands.add_parser(
        "crash-sweep", help="crash the handlers at chosen writes of a scenario, compare with a clean run"
    )
    crash.add_argument("--scenario", type=Path, help="scenario file; default: the shipped one")
    crash.add_argument("--points", type=int, default=24, help="crash points to try (default 24)")
    crash.add_argument("--hours", type=int, help="play only the scenario's first N hours")
    crash.add_argument("--seed", type=int, default=7)
    crash.add_argument("--keys", default="", help="only at keys starting so: TARGET#,DIGEST/")

    from rapport_local.stack_commands import add_parsers as add_stack_parsers

    add_stack_parsers(commands)

    args = parser.parse_args(argv)
    if args.command == "status":
        return _status(args)
    if args.command == "setup":
        return _setup(args)
    if args.command in ("targets", "settings"):
        from rapport_local.stack_commands import run as run_on_stack

        return run_on_stack(args, lambda: _stack_client(args))
    if args.local or args.command in ("run", "admin"):
        from rapport_local.stack_client import NoStack

        try:
            return _on_local_stack(args)
        except NoStack as exc:
            print(f"rapport: {exc}", file=sys.stderr)
            return 2
    try:
        if args.command == "local":
            from rapport_local.demo import default_scenario
            from rapport_local.local_server import serve_local
            from rapport_local.scenario import load_scenario

            serve_local(load_scenario(args.scenario or default_scenario()), args.port)
        elif args.command == "demo":
            from rapport_local.demo import run_demo

            run_demo(args.scenario, args.out)
        elif args.command == "digest":
            from rapport_local.preview import preview as run_preview

            shown = run_preview(args.date, args.out, scenario_path=args.scenario, table=args.table)
            print(f"{shown.rendered.subject}\n  HTML: {shown.html_path}\n  text: {shown.text_path}")
        elif args.command == "bench":
            from rapport_local.bench import run_bench

            result = run_bench(
                _sizes(args.targets),
                _sizes(args.days),
                every_hours=args.every_hours,
                seed=args.seed,
                scenario=args.scenario,
                as_json=args.json,
                levers=args.levers,
            )
            if any(row["missed"] for r in result for row in r["rows"] if row["collector"] == "rapport"):
                print("rapport: scripted signals were missed", file=sys.stderr)
                return 1
        elif args.command == "coldstart":
            from rapport_local.coldstart import PYTHON_VARIABLE, run_coldstart

            if args.python:
                os.environ[PYTHON_VARIABLE] = args.python
            run_coldstart(
                args.runs,
                args.tracing,
                args.top,
                args.source,
                invoke=args.invoke,
                count=args.instructions,
                parts=args.parts,
                bytecode=args.bytecode,
            )
        elif args.command == "crash-sweep":
            from rapport_local.crash_sweep import run_crash_sweep

            prefixes = [k for k in args.keys.split(",") if k]
            if run_crash_sweep(args.scenario, args.points, args.seed, args.hours, prefixes)["wrong"]:
                print("rapport: some crash points lost or repeated something", file=sys.stderr)
                return 1
        elif args.command == "calls":
            from rapport_local.calls import run_calls

            run_calls(_sizes(args.targets), args.hours, args.seed)
        elif args.command == "detect":
            from rapport_local.detect_eval import (
                evaluate,
                format_report,
                train_question_model,
                write_detections,
                write_question_model,
            )

            if args.evaluate:
                print(format_report(evaluate(args.shared, folds=args.folds, fold_seed=args.fold_seed)))
            elif args.filter_report:
                from rapport_local.filter_report import format_filter_report, shared_report

                print(format_filter_report(shared_report(args.shared)), end="")
            elif args.train:
                size = write_question_model(train_question_model(args.shared))
                print(f"question_model.json: {size // 1024} KB")
            else:
                write_detections(args.file, sys.stdout, args.me)
        else:
            _serve_xsim(args.scenario, args.port)
    except (ValueError, FileNotFoundError) as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    return 0


def _on_local_stack(args: argparse.Namespace) -> int:
    """The commands that act on the running local stack, through its signed admin URL."""
    from rapport_local.stack_client import HOW_TO_START, StackClient

    if not args.local:
        needs = f"`{args.command}` acts on the local stack: add --local"
        print(f"rapport: {needs}; {HOW_TO_START}", file=sys.stderr)
        return 2
    if args.command == "run":
        reply = StackClient.local().request("POST", "/_local/run", {"hours": args.hours})
        if reply.ok:
            _print_run(reply.body)
    elif args.command == "digest":
        reply = StackClient.local().request("GET", "/_local/digest/preview")
        if reply.ok and args.json:
            print(json.dumps(reply.body, indent=2, ensure_ascii=False))
        elif reply.ok:
            print(reply.body["text"])
            if args.html:
                args.html.parent.mkdir(parents=True, exist_ok=True)
                args.html.write_text(reply.body["html"], encoding="utf-8")
                print(f"HTML: {args.html}")
    elif args.command == "admin":
        try:
            body = json.loads(args.body)
        except json.JSONDecodeError as exc:
            print(f"rapport: the body is not JSON: {exc}", file=sys.stderr)
            return 2
        reply = StackClient.local().request("POST", args.path, body)
        print(json.dumps(reply.body, indent=2) if not isinstance(reply.body, str) else reply.body)
    else:
        print(f"rapport: `{args.command}` does not act on the local stack", file=sys.stderr)
        return 2
    if not reply.ok and args.command != "admin":
        print(f"rapport: the local stack answered {reply.status}: {reply.body}", file=sys.stderr)
    return 0 if reply.ok else 1


def _add_stack_flags(parser: argparse.ArgumentParser, default: Any) -> None:
    """Which deployed stack: flags win over samconfig.toml. On a command, SUPPRESS keeps the main
    parser's value when the flag is not repeated after the command."""
    parser.add_argument("--profile", default=default, help="AWS profile (default: samconfig.toml's)")
    parser.add_argument("--region", default=default, help="AWS region (default: samconfig.toml's)")
    parser.add_argument("--stack-name", default=default, help="the stack's name (default: samconfig.toml's)")


def _stack_client(args: argparse.Namespace) -> StackClient:
    """The admin API of the stack a command acts on: the local stack with --local, else the deployed
    one. Raises NoStack (exit 2) naming what is missing."""
    from rapport_local.deployed import open_deployed
    from rapport_local.stack_client import StackClient

    if args.local:
        return StackClient.local()
    return open_deployed(_stack_address(args)).stack_client()


def _stack_address(args: argparse.Namespace) -> StackAddress:
    from rapport_local.deployed import read_samconfig, stack_address

    flags = {"stack_name": args.stack_name, "region": args.region, "profile": args.profile}
    return stack_address(read_samconfig(), **flags)


def _status(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from rich.console import Console

    from rapport_local.deployed import open_deployed
    from rapport_local.stack_client import NoStack
    from rapport_local.status import admin_refused, deployed_status, local_status, print_status

    try:
        if args.local:
            report = local_status()
        else:
            report = deployed_status(open_deployed(_stack_address(args)), datetime.now(UTC))
    except NoStack as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_status(report, Console())
    return 1 if admin_refused(report) else 0


def _setup(args: argparse.Namespace) -> int:
    """Exit 0 whatever is left to do (the list is guidance), 1 when X refuses the keys, 2 on a usage
    or connection problem."""
    from rapport_local.deployed import open_deployed
    from rapport_local.setup import (
        KeysRefused,
        Options,
        SetupProblem,
        Terminal,
        deployed_target,
        local_target,
    )
    from rapport_local.setup import run_setup as run_guided_setup
    from rapport_local.stack_client import NoStack

    def say(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    try:
        target = local_target() if args.local else deployed_target(open_deployed(_stack_address(args)))
        options = Options(keys_file=args.x_keys_file, keep_keys=args.keep_keys)
        report = run_guided_setup(target, options, Terminal(say), say)
    except KeysRefused as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 1
    except (NoStack, SetupProblem) as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


def _print_run(summary: dict[str, Any]) -> None:
    print(f"played {summary['hours']} hours: {summary['from']} -> {summary['now']} (simulated clock)")
    for t in summary["transitions"]:
        print(f"  {t['at']}  @{t['target']}: {t['from'] or '(new)'} -> {t['to']} ({t['reason']})")
    for d in summary["digests"]:
        print(f"  {d['at']}  digest sent for {d['local_date']}: {d['suggestions']} suggestions")
    if not summary["transitions"] and not summary["digests"]:
        print("  nothing happened")


def _sizes(raw: str) -> list[int]:
    return [int(size) for size in raw.split(",") if size.strip()]


def _iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date like 2026-03-09") from exc


def _serve_xsim(scenario_path: Path | None, port: int) -> None:
    from rapport_local.demo import default_scenario
    from rapport_local.scenario import load_scenario
    from rapport_local.xsim import XSimServer

    scenario = load_scenario(scenario_path or default_scenario())
    with XSimServer(scenario, port=port) as server:
        server.set_now(scenario.start)
        print(f"X API simulator on {server.url} (clock at {scenario.start.isoformat()}); Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    raise SystemExit(main())
