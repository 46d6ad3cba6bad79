"""``rapport targets`` and ``rapport settings``: the admin API's targets and settings as commands.

Each command sends one or a few signed requests to the stack's admin URL (a ``StackClient``). With
``--json`` it prints the API's JSON for scripts; otherwise readable tables (rich). Exit codes: 0 done,
1 the stack refused the request (4xx), 2 a usage or connection problem (5xx included).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from rapport.usecases.admin import normalize_username
from rapport_local.stack_client import NoStack, Reply, StackClient

DONE, REFUSED, TROUBLE = 0, 1, 2
LIST_SETTINGS = frozenset({"topics"})  # settings given as comma-separated lists
CHUNK_ROWS = 200  # a longer import is checked whole, then sent in parts of this many rows with a bar


class Trouble(Exception):
    """A usage or connection problem: exit 2 with the message."""


class Refused(Exception):
    """The stack answered 4xx: exit 1, with the API's answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


# --- the pure parts: parsing what the person typed, rendering what the API answered ------------


def parse_topics(raw: str) -> list[str]:
    """``a, b,c`` as ``["a", "b", "c"]``; an empty string clears them."""
    return [topic.strip() for topic in raw.split(",") if topic.strip()]


def parse_settings(pairs: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as the body of a settings change: a value is JSON when it parses as JSON,
    else the string itself; a list setting (topics) may be comma-separated."""
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, equals, raw = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise Trouble(f"{pair!r} is not KEY=VALUE (e.g. digest_hour=8)")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        if key in LIST_SETTINGS and not isinstance(value, list):
            value = parse_topics(raw)
        changes[key] = value
    return changes


def exit_code(status: int) -> int:
    if 200 <= status < 300:
        return DONE
    return REFUSED if 400 <= status < 500 else TROUBLE


def problems(body: Any) -> list[dict[str, Any]]:
    """The problems a refusal lists (``{"error": [...]}``), or one made of whatever else it said."""
    if isinstance(body, dict):
        if isinstance(body.get("error"), list):
            return [p for p in body["error"] if isinstance(p, dict)]
        said = body.get("message") or body.get("error")
        if said:
            return [{"field": "request", "message": str(said)}]
    return [{"field": "request", "message": str(body)}]


def describe_problem(problem: dict[str, Any]) -> str:
    where = problem.get("field", "request")
    if "row" in problem:
        return f"row {problem['row']}: {where} {problem.get('value')!r}: {problem.get('message')}"
    return f"{where}: {problem.get('message')}"


def targets_table(targets: Sequence[dict[str, Any]]) -> Table:
    """One row a target: where it stands, since when, the last exchange either way, and what comes next."""
    table = Table(title=f"{len(targets)} target(s)", title_justify="left")
    for column in ("username", "stage", "since", "follows you", "last contact", "next suggestion"):
        table.add_column(column, no_wrap=column == "username")
    for target in targets:
        table.add_row(
            f"@{target['username']}",
            target["stage"],
            _when(target.get("since")),
            _yes_no(target.get("follows_you")),
            _when(target.get("last_contact")),
            next_suggestion(target.get("next_suggestion")),
        )
    return table


def next_suggestion(suggestion: dict[str, Any] | None) -> str:
    """``kind: reason`` of the suggestion that waits first for a digest; blank when none does."""
    if not suggestion:
        return ""
    return f"{suggestion.get('kind')}: {suggestion.get('reason')}"


def following_table(people: Sequence[dict[str, Any]]) -> Table:
    """The people you follow, numbered from 1, to pick from."""
    table = Table(title=f"{len(people)} to pick from", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("username", no_wrap=True)
    table.add_column("name")
    for number, person in enumerate(people, start=1):
        table.add_row(str(number), f"@{person['username']}", person.get("name") or "")
    return table


def parse_pick(raw: str, people: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``1,3,5``, ``all``, or usernames (``a,@b``) as the people picked among ``people``."""
    if raw.strip().lower() == "all":
        return list(people)
    picked: list[dict[str, Any]] = []
    for part in (p.strip() for p in raw.split(",")):
        if part and (person := _one_pick(part, people)) not in picked:
            picked.append(person)
    return picked


def _one_pick(part: str, people: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if part.isdigit():
        if not 1 <= int(part) <= len(people):
            raise Trouble(f"{part} is not a number from the list (1-{len(people)})")
        return people[int(part) - 1]
    name = part
    with suppress(ValueError):
        name = normalize_username(part)
    for person in people:
        if person["username"].lower() == name.lower():
            return person
    raise Trouble(f"@{name} is not among the people you follow who are not targets yet")


def target_summary(target: dict[str, Any]) -> Table:
    table = Table(show_header=False, box=None, title=f"@{target['username']}", title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rows = {
        "name": target.get("name") or "",
        "stage": target.get("stage") or "",
        "topics": ", ".join(target.get("topics") or ()),
        "note": target.get("note") or "",
        "follows you": _yes_no(target.get("follows_you")),
        "added": _when(target.get("added_at")),
    }
    for label, value in rows.items():
        table.add_row(label, value)
    return table


def history_table(transitions: Sequence[dict[str, Any]]) -> Table:
    """The stage history, oldest first: when, from, to, why, and the posts that were the evidence."""
    table = Table(title="stage history", title_justify="left")
    table.add_column("when", no_wrap=True)
    table.add_column("from")
    table.add_column("to")
    table.add_column("reason")
    table.add_column("evidence", no_wrap=True)
    for t in transitions:
        links = "\n".join(t.get("evidence_links") or ())
        table.add_row(_when(t.get("at")), t.get("from") or "(new)", t.get("to") or "", t.get("reason"), links)
    return table


def feedback_table(answers: Sequence[dict[str, Any]]) -> Table:
    """Your answers from the digest's links: when, which, about what, and a snooze's end."""
    table = Table(title="your answers from the digest", title_justify="left")
    table.add_column("when", no_wrap=True)
    table.add_column("answer")
    table.add_column("about")
    table.add_column("until", no_wrap=True)
    for a in answers:
        table.add_row(_when(a.get("at")), a.get("answer") or "", a.get("about") or "", _when(a.get("until")))
    return table


def settings_table(settings: dict[str, Any], only: Sequence[str] | None = None) -> Table:
    table = Table(title="settings", title_justify="left")
    table.add_column("key", no_wrap=True)
    table.add_column("value")
    for key in only if only is not None else sorted(settings):
        value = settings.get(key)
        if key == "links" and isinstance(value, list):
            shown = f"{len(value)} (see `rapport settings links`)"
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else _plain(value)
        table.add_row(key, shown)
    return table


def problems_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="bad rows", title_justify="left")
    table.add_column("row", justify="right")
    table.add_column("value")
    table.add_column("why")
    for p in rows:
        table.add_row(str(p.get("row", "")), _plain(p.get("value")), f"{p.get('field')}: {p.get('message')}")
    return table


def _when(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else ""


def _yes_no(flag: Any) -> str:
    return "" if flag is None else ("yes" if flag else "no")


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# --- the commands -----------------------------------------------------------------------------


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON, for scripts"
    )
    raw = argparse.RawDescriptionHelpFormatter

    def command(parent: Any, name: str, help_text: str, epilog: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=help_text, epilog=epilog, formatter_class=raw, parents=[flags]
        )
        return parser

    targets = command(
        commands,
        "targets",
        "the people you build relationships with: list them, add, show, edit, pause, remove, import, export",
        "examples:\n  rapport --local targets\n  rapport --local targets add @person_x --topics serverless\n"
        "  rapport --local targets show person_x\n  rapport --local targets import people.csv --dry-run\n"
        "  rapport --local targets export --format csv > people.csv",
    )
    actions = targets.add_subparsers(dest="targets_command", metavar="ACTION")
    add = command(
        actions,
        "add",
        "add people as targets (each is looked up on X)",
        "examples:\n  rapport --local targets add person_x @friend_y https://x.com/quiet_q\n"
        "  rapport --local targets add person_x --topics serverless,python --note 'met at a meetup'\n"
        "With --json: the API's answer, or a list of answers for several names.",
    )
    add.add_argument("names", nargs="+", metavar="NAME", help="name, @name or https://x.com/name")
    add.add_argument("--topics", type=parse_topics, help="comma-separated topics they post about")
    add.add_argument("--note", help="your own words about them")
    show = command(
        actions, "show", "a target and its stage history", "example:\n  rapport --local targets show person_x"
    )
    show.add_argument("name", metavar="NAME")
    edit = command(
        actions,
        "edit",
        "replace a target's topics or note (what is not given is kept)",
        "examples:\n  rapport --local targets edit person_x --topics lambda,python\n"
        "  rapport --local targets edit person_x --note 'wrote the layers post'\n"
        "  rapport --local targets edit person_x --topics ''   (no topics)",
    )
    edit.add_argument("name", metavar="NAME")
    edit.add_argument("--topics", type=parse_topics, help="comma-separated; replaces the topics")
    edit.add_argument("--note", help="replaces the note")
    for name, what in (("pause", "no suggestions until resumed"), ("resume", "back to the stage it earned")):
        example = f"example:\n  rapport --local targets {name} person_x"
        paused = command(actions, name, f"{name} a target: {what}", example)
        paused.add_argument("name", metavar="NAME")
    remove = command(
        actions,
        "remove",
        "forget a target and all its history (asks first, or --yes)",
        "example:\n  rapport --local targets remove quiet_q --yes\n"
        "Without a terminal to ask on, --yes is required.",
    )
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--yes", action="store_true", help="do not ask")
    imports = command(
        actions,
        "import",
        "add many targets from a CSV or JSON file; every row is checked before any is added",
        "CSV: a username column, optional topics (;-separated) and note. JSON: a list of\n"
        '{"username", "topics", "note"} (what `targets export --format json` writes).\n'
        "If any row is bad, every bad row is shown and nothing is added. Importing a file twice adds\n"
        f"nothing the second time. A file of more than {CHUNK_ROWS} rows is checked whole, then sent in\n"
        "parts with a progress bar.\n"
        "--from-following lists the people you follow on X who are not targets yet, numbered, and asks\n"
        "which to add (1,3,5 or all); without a terminal, give --pick or --all. With --json and\n"
        "neither, it prints them (the candidates) and adds nothing.\n"
        "examples:\n  rapport --local targets import people.csv --dry-run\n"
        "  rapport --local targets import people.csv --skip-invalid\n"
        "  rapport --local targets export | rapport --local targets import -\n"
        "  rapport --local targets import --from-following\n"
        "  rapport --local targets import --from-following --pick 1,3,friend_y",
    )
    imports.add_argument("file", metavar="FILE", nargs="?", help="a .csv or .json file, or - for stdin")
    imports.add_argument("--skip-invalid", action="store_true", help="add the good rows even if some are bad")
    imports.add_argument("--dry-run", action="store_true", help="show what would be added; add nothing")
    imports.add_argument(
        "--from-following",
        action="store_true",
        help="pick among the people you follow on X (an owned read: $0.001 a person)",
    )
    imports.add_argument("--pick", metavar="A,B", help="with --from-following: numbers or usernames to add")
    imports.add_argument("--all", action="store_true", help="with --from-following: add everyone offered")
    imports.add_argument(
        "--limit", type=int, default=1000, help="with --from-following: read at most this many (default 1000)"
    )
    export = command(
        actions,
        "export",
        "write every target (username, topics, note) to stdout, as import reads it back",
        "examples:\n  rapport --local targets export > people.json\n"
        "  rapport --local targets export --format csv > people.csv",
    )
    export.add_argument("--format", choices=("csv", "json"), default="json", help="default: json")

    settings = command(
        commands,
        "settings",
        "the settings: show them, or change some with `settings set KEY=VALUE ...`",
        "examples:\n  rapport --local settings\n"
        "  rapport --local settings set digest_hour=8 timezone=Europe/Paris\n"
        "  rapport --local settings set topics=serverless,python send_empty_digest=false",
    )
    changes = settings.add_subparsers(dest="settings_command", metavar="ACTION")
    set_ = command(
        changes,
        "set",
        "change some settings; the stack validates them as a whole and changes nothing if one is bad",
        'Values are read as JSON when they parse (8, false, 5.5, ["a"]), else as text; topics may be\n'
        "comma-separated.\nexample:\n  rapport --local settings set digest_hour=8 topics=serverless,python",
    )
    set_.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    links = command(
        changes,
        "links",
        "your link library: the resources an answer to a question can point to; list, add or remove them",
        "examples:\n  rapport --local settings links\n"
        "  rapport --local settings links add https://example.com/cold-starts "
        '--title "Measuring cold starts" --topics "lambda,cold starts"\n'
        "  rapport --local settings links remove https://example.com/cold-starts",
    )
    link_actions = links.add_subparsers(dest="links_command", metavar="ACTION")
    add_link = command(
        link_actions,
        "add",
        "add a resource (or replace the one with the same URL)",
        "example:\n"
        '  rapport --local settings links add https://example.com/t --title "Typing guide" --topics python',
    )
    add_link.add_argument("url", metavar="URL")
    add_link.add_argument("--title", required=True, help="what the answer calls it")
    add_link.add_argument(
        "--topics", type=parse_topics, default=[], metavar="A,B", help="what it helps with, comma-separated"
    )
    remove_link = command(
        link_actions,
        "remove",
        "remove a resource by its URL",
        "example:\n  rapport --local settings links remove https://example.com/t",
    )
    remove_link.add_argument("url", metavar="URL")


def run(args: argparse.Namespace, client_of: Callable[[], StackClient]) -> int:
    """Carry out ``rapport targets ...`` or ``rapport settings ...`` on the stack ``client_of`` gives."""
    as_json: bool = getattr(args, "json", False)
    try:
        client = client_of()
        if args.command == "settings":
            return _settings(client, args, as_json)
        return _targets(client, args, as_json)
    except Refused as refused:
        _show_refusal(refused.reply, as_json)
        return REFUSED
    except (Trouble, NoStack) as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return TROUBLE


def _targets(client: StackClient, args: argparse.Namespace, as_json: bool) -> int:
    action = args.targets_command
    if action is None:
        return _list(client, as_json)
    if action == "add":
        return _add(client, args, as_json)
    if action == "import":
        return _import(client, args, as_json)
    if action == "export":
        return _export(client, args.format)
    path = _target_path(args.name)
    if action == "show":
        body = _call(client, "GET", path)
        if as_json:
            return _print_json(body)
        out = _console()
        out.print(target_summary(body["target"]))
        out.print(history_table(body["transitions"]))
        if body.get("feedback"):
            out.print(feedback_table(body["feedback"]))
        return DONE
    if action == "edit":
        changes = {k: v for k, v in (("topics", args.topics), ("note", args.note)) if v is not None}
        if not changes:
            raise Trouble("give --topics, --note or both")
        return _show_target(_call(client, "PATCH", path, changes), as_json, "changed")
    if action in ("pause", "resume"):
        return _show_target(_call(client, "POST", f"{path}/{action}"), as_json, f"{action}d")
    return _remove(client, args, path, as_json)


def _list(client: StackClient, as_json: bool) -> int:
    body = _call(client, "GET", "/targets")  # one request: the list tells where each target stands
    if as_json:
        return _print_json(body)
    _console().print(targets_table(body["targets"]))
    return DONE


def _add(client: StackClient, args: argparse.Namespace, as_json: bool) -> int:
    answers: list[Any] = []
    worst = DONE
    for name in args.names:
        body: dict[str, Any] = {"username": name}
        body |= {k: v for k, v in (("topics", args.topics), ("note", args.note)) if v is not None}
        reply = _send(client, "POST", "/targets", body)
        answers.append(reply.body)
        worst = max(worst, exit_code(reply.status))
        if as_json:
            continue
        if reply.ok:
            target = reply.body["target"]
            done = "added" if reply.body.get("created") else "already a target:"
            print(f"{done} @{target['username']} ({target['name']}), stage {target['stage']}")
        else:
            for problem in problems(reply.body):
                print(f"rapport: {name!r} refused: {describe_problem(problem)}", file=sys.stderr)
    if as_json:
        _print_json(answers[0] if len(answers) == 1 else answers)
    return worst


def _remove(client: StackClient, args: argparse.Namespace, path: str, as_json: bool) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            refusal = f"not removing @{args.name} without --yes (no terminal to ask on)"
            print(f"rapport: {refusal}", file=sys.stderr)
            return REFUSED
        answer = input(f"Remove @{args.name} and everything stored about them? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return REFUSED
    body = _call(client, "DELETE", path)
    if as_json:
        return _print_json(body)
    print(f"removed @{body['removed']} ({body['items_deleted']} items)")
    return DONE


def _import(client: StackClient, args: argparse.Namespace, as_json: bool) -> int:
    if args.from_following:
        if args.file is not None:
            raise Trouble("give a FILE or --from-following, not both")
        return _import_following(client, args, as_json)
    if args.file is None:
        raise Trouble("give a FILE to import (or - for stdin), or --from-following")
    if args.pick is not None or args.all:
        raise Trouble("--pick and --all choose among the people you follow: use them with --from-following")
    text, is_json = _read_import(args.file)
    whole: Any = text
    if is_json:
        rows = json.loads(text)
        whole = rows.get("targets") if isinstance(rows, dict) else rows
    parts = _parts(whole, is_json)
    if len(parts) <= 1 or args.dry_run:
        # One request: the stack checks the whole file (X lookups included) before adding any row.
        with _Working("checking every row, then importing"):
            reply = _post_import(client, whole, is_json, skip_invalid=args.skip_invalid, dry_run=args.dry_run)
        return _import_answer(reply, as_json)
    return _import_in_parts(client, whole, parts, is_json=is_json, skip=args.skip_invalid, as_json=as_json)


def _import_in_parts(
    client: StackClient, whole: Any, parts: list[tuple[Any, int]], *, is_json: bool, skip: bool, as_json: bool
) -> int:
    """A long file: checked whole first (a dry run), so that nothing is added unless every row is good
    (or --skip-invalid); then sent in parts of CHUNK_ROWS rows, with a progress bar."""
    with _Working("checking every row"):
        check = _post_import(client, whole, is_json, skip_invalid=skip, dry_run=True)
    if not check.ok:
        return _import_answer(check, as_json)
    total = sum(count for _, count in parts)
    done: dict[str, Any] = {"dry_run": False, "added": [], "existing": [], "invalid": check.body["invalid"]}
    done["x_lookups"] = check.body.get("x_lookups", 0)
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"))
    with Progress(*columns, console=_console(stderr=True)) as progress:
        bar = progress.add_task("importing", total=total)
        for body, count in parts:
            # Each part skips the rows the check found bad; they are reported once, by their line.
            answer = _call_import(client, body, is_json, skip_invalid=skip)
            done["added"] += answer["added"]
            done["existing"] += answer["existing"]
            done["x_lookups"] += answer.get("x_lookups", 0)
            progress.advance(bar, count)
    if as_json:
        return _print_json(done)
    return _show_import(done)


def _parts(whole: Any, is_json: bool) -> list[tuple[Any, int]]:
    """The import in parts of CHUNK_ROWS rows, each with its row count: JSON lists, or CSV texts that
    each repeat the header. A JSON body that is not a list is left whole, for the stack to refuse."""
    if is_json:
        if not isinstance(whole, list):
            return [(whole, 0)]
        return [
            (whole[i : i + CHUNK_ROWS], len(whole[i : i + CHUNK_ROWS]))
            for i in range(0, len(whole), CHUNK_ROWS)
        ]
    records = [r for r in csv.reader(io.StringIO(whole.lstrip("\ufeff"))) if any(v.strip() for v in r)]
    if len(records) <= 1:
        return [(whole, len(records))]
    header, rows = records[0], records[1:]
    parts = []
    for i in range(0, len(rows), CHUNK_ROWS):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerows([header, *rows[i : i + CHUNK_ROWS]])
        parts.append((out.getvalue(), len(rows[i : i + CHUNK_ROWS])))
    return parts


def _post_import(
    client: StackClient, body: Any, is_json: bool, *, skip_invalid: bool, dry_run: bool
) -> Reply:
    query = urlencode({k: "true" for k, on in (("skip_invalid", skip_invalid), ("dry_run", dry_run)) if on})
    path = "/targets/import" + (f"?{query}" if query else "")
    if is_json:
        return _send(client, "POST", path, body)
    reply = client.send_text("POST", path, body, "text/csv")
    if exit_code(reply.status) == TROUBLE:
        raise Trouble(_failure(reply))
    return reply


def _call_import(client: StackClient, body: Any, is_json: bool, *, skip_invalid: bool) -> dict[str, Any]:
    reply = _post_import(client, body, is_json, skip_invalid=skip_invalid, dry_run=False)
    if not reply.ok:
        raise Refused(reply)
    answer: dict[str, Any] = reply.body
    return answer


def _import_answer(reply: Reply, as_json: bool) -> int:
    """Show what an import did, or every bad row when the stack refused it."""
    if not reply.ok:
        bad = [p for p in problems(reply.body) if "row" in p]
        if as_json or not bad:
            raise Refused(reply)
        _console(stderr=True).print(problems_table(bad))
        refusal = f"{len(bad)} bad row(s): nothing imported (fix them, or --skip-invalid)"
        print(f"rapport: {refusal}", file=sys.stderr)
        return REFUSED
    if as_json:
        return _print_json(reply.body)
    return _show_import(reply.body)


def _show_import(answer: dict[str, Any]) -> int:
    added = "would add" if answer["dry_run"] else "added"
    print(f"{added} {len(answer['added'])}: {', '.join('@' + u for u in answer['added']) or '-'}")
    if answer["existing"]:
        print(f"already targets, left as they are: {', '.join('@' + u for u in answer['existing'])}")
    if answer["invalid"]:
        _console().print(problems_table(answer["invalid"]))
        print(f"skipped {len(answer['invalid'])} bad row(s)")
    return DONE


def _import_following(client: StackClient, args: argparse.Namespace, as_json: bool) -> int:
    """Offer the people you follow who are not targets yet; import those picked, as a file would be."""
    with _Working("reading the people you follow on X"):
        body = _call(client, "GET", f"/following?{urlencode({'limit': args.limit})}")
    people = [p for p in body["following"] if not p.get("target")]
    if as_json and args.pick is None and not args.all:
        return _print_json({"candidates": people, "x_cost_usd": body.get("x_cost_usd")})
    if not as_json:
        cost = f"${body.get('x_cost_usd', 0):.3f}"
        read = len(body["following"])
        print(f"you follow {read} people on X (read for {cost}); {len(people)} not targets yet")
    if not people:
        return DONE
    picked = _picked(people, args)
    if not picked:
        print("nothing picked: nothing added")
        return DONE
    rows = [{"username": p["username"]} for p in picked]
    with _Working(f"importing {len(rows)} people"):
        reply = _post_import(client, rows, True, skip_invalid=args.skip_invalid, dry_run=args.dry_run)
    return _import_answer(reply, as_json)


def _picked(people: list[dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.all:
        return people
    if args.pick is not None:
        return parse_pick(args.pick, people)
    if not sys.stdin.isatty():
        raise Trouble("no terminal to ask on: choose with --pick 1,3 (numbers or usernames) or --all")
    _console().print(following_table(people))
    return parse_pick(input("Which to add? Numbers or usernames (1,3,5), all, or nothing: "), people)


def _read_import(file: str) -> tuple[str, bool]:
    """The file's text, and whether it is JSON (by its suffix, else by its first character)."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise Trouble(f"cannot read {file}: {exc.strerror or exc}") from exc
    suffix = Path(file).suffix.lower()
    is_json = suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("[", "{"))
    if is_json:
        try:
            json.loads(text)
        except ValueError as exc:
            raise Trouble(f"{file} is not JSON: {exc}") from exc
    return text, is_json


def _export(client: StackClient, form: str) -> int:
    body = _call(client, "GET", f"/targets/export?format={form}")
    if isinstance(body, str):
        sys.stdout.write(body)
    else:
        _print_json(body)
    return DONE


def _settings(client: StackClient, args: argparse.Namespace, as_json: bool) -> int:
    if args.settings_command == "links":
        return _links(client, args, as_json)
    if args.settings_command is None:
        body = _call(client, "GET", "/settings")
        if as_json:
            return _print_json(body)
        _console().print(settings_table(body["settings"]))
        return DONE
    changes = parse_settings(args.pairs)
    body = _call(client, "PATCH", "/settings", changes)
    if as_json:
        return _print_json(body)
    _console().print(settings_table(body["settings"], only=list(changes)))
    return DONE


def _links(client: StackClient, args: argparse.Namespace, as_json: bool) -> int:
    """The library is one setting: read it, change it here, and send it back whole (the stack checks it)."""
    library: list[dict[str, Any]] = list(_call(client, "GET", "/settings")["settings"].get("links") or [])
    action = args.links_command
    if action is not None:
        library = edit_library(
            library, action, args.url, title=getattr(args, "title", ""), topics=getattr(args, "topics", [])
        )
        library = _call(client, "PATCH", "/settings", {"links": library})["settings"]["links"]
    if as_json:
        return _print_json({"links": library})
    _console().print(links_table(library))
    return DONE


def edit_library(
    library: Sequence[dict[str, Any]], action: str, url: str, *, title: str = "", topics: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The library after adding (or replacing, by URL) or removing one resource; removing an unknown
    URL is a usage problem, so a typo does not pass for done."""
    url = url.strip()
    kept = [link for link in library if link.get("url") != url]
    if action == "remove":
        if len(kept) == len(library):
            raise Trouble(f"no link {url} in your library (see `rapport settings links`)")
        return kept
    replaced = len(kept) < len(library)
    added = {"url": url, "title": title, "topics": list(topics)}
    if replaced:  # keep its place: earlier links win ties when answers pick one
        return [added if link.get("url") == url else link for link in library]
    return [*kept, added]


def links_table(library: Sequence[dict[str, Any]]) -> Table:
    table = Table(title=f"links ({len(library)})", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("title")
    table.add_column("topics")
    table.add_column("url", no_wrap=True)
    for n, link in enumerate(library, start=1):
        table.add_row(
            str(n), _plain(link.get("title")), ", ".join(link.get("topics") or ()), _plain(link.get("url"))
        )
    return table


# --- talking to the stack, and printing -------------------------------------------------------


def _target_path(name: str) -> str:
    """The target's resource; ``@name`` and profile links name it as an add does."""
    with suppress(ValueError):  # else sent as typed: the stack says what is wrong with it
        name = normalize_username(name)
    return f"/targets/{quote(name, safe='')}"


def _send(client: StackClient, method: str, path: str, body: Any = None) -> Reply:
    reply = client.request(method, path, body)
    if exit_code(reply.status) == TROUBLE:
        raise Trouble(_failure(reply))
    return reply


def _call(client: StackClient, method: str, path: str, body: Any = None) -> Any:
    """The answer's body; a refusal raises ``Refused``, a failure of the stack ``Trouble``."""
    reply = _send(client, method, path, body)
    if not reply.ok:
        raise Refused(reply)
    return reply.body


def _failure(reply: Reply) -> str:
    return f"the stack failed ({reply.status}): {'; '.join(map(describe_problem, problems(reply.body)))}"


def _show_target(body: dict[str, Any], as_json: bool, done: str) -> int:
    if as_json:
        return _print_json(body)
    target = body["target"]
    print(f"{done} @{target['username']}: stage {target['stage']}")
    _console().print(target_summary(target))
    return DONE


def _show_refusal(reply: Reply, as_json: bool) -> None:
    if as_json:
        _print_json(reply.body)
    for problem in problems(reply.body):
        print(f"rapport: refused ({reply.status}): {describe_problem(problem)}", file=sys.stderr)


def _print_json(body: Any) -> int:
    print(json.dumps(body, indent=2, ensure_ascii=False))
    return DONE


def _console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Piped or captured output is not cut to 80 columns: links and names stay whole.
    return Console(file=stream, width=None if stream.isatty() else 200, highlight=False)


class _Working:
    """A status line on a terminal while the stack works; nothing when output is not a terminal."""

    def __init__(self, what: str) -> None:
        self._status = _console(stderr=True).status(what) if sys.stderr.isatty() else None

    def __enter__(self) -> None:
        if self._status is not None:
            self._status.start()

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()
