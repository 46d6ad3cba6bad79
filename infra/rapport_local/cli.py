"""The ``rapport`` command: run the embedded demo, the X API simulator, and the detectors."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _shared_dir() -> Path:
    return Path(__file__).resolve().parents[2].parent / "shared"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rapport", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the whole pipeline on a local AWS and a local X API")
    demo.add_argument("--scenario", type=Path, help="scenario file (YAML or JSON); default: the shipped one")
    demo.add_argument("--out", type=Path, default=Path("out"), help="where digests and summary.json go")

    detect = commands.add_parser("detect", help="run the question and thanks detectors on a CSV")
    source = detect.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="CSV with a 'text' column; writes text,question,thanks")
    source.add_argument("--evaluate", action="store_true", help="print precision and recall on labelled sets")
    detect.add_argument("--me", default=None, help="your username, for thanks addressed to you")
    detect.add_argument("--shared", type=Path, default=_shared_dir(), help="folder holding datasets/")

    xsim = commands.add_parser("xsim", help="serve the X API v2 simulator for a scenario")
    xsim.add_argument("--scenario", type=Path, help="scenario file; default: the shipped one")
    xsim.add_argument("--port", type=int, default=8123)

    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from rapport_local.demo import run_demo

            run_demo(args.scenario, args.out)
        elif args.command == "detect":
            from rapport_local.detect_eval import evaluate, format_report, write_detections

            if args.evaluate:
                print(format_report(evaluate(args.shared)))
            else:
                write_detections(args.file, sys.stdout, args.me)
        else:
            _serve_xsim(args.scenario, args.port)
    except (ValueError, FileNotFoundError) as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    return 0


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
