"""Import and export of targets: a whole list is checked (X included) before anything is added.

An import reads CSV (a ``username`` column; optional ``topics``, ``;``-separated, and ``note``) or a
list of rows. Every bad row is reported with its number, its value and why; unless told to skip
them, one bad row means nothing is added. People already targets are left as they are, so the same
file imported twice adds nothing, and an export imports back to the same targets.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError

from rapport.domain.model import Target
from rapport.domain.x import XUser
from rapport.usecases.admin import IMPORT_CSV_MAX, IMPORT_ROWS_MAX, AdminError, ImportTargets, NewTarget
from rapport.usecases.collect import me_on_x
from rapport.usecases.ports import Stores, XSource

LOOKUP_BATCH = 100  # usernames per X users lookup, the most X takes at once
COLUMNS = ("username", "topics", "note")
TOPIC_SEPARATOR = ";"
NOT_ON_X = "does not exist on X (or is suspended)"
SHOWN_MAX = 100  # characters of a refused value repeated in the answer


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row cannot be imported. ``row`` counts the CSV's lines (the header is 1) or the rows from 1."""

    row: int
    field: str
    value: Any
    message: str


class ImportRejected(AdminError):
    """Some rows are bad and none was added; ``problems`` lists every one."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(
            f"{len(problems)} bad row(s), nothing imported: "
            + "; ".join(f"row {p.row} {p.field} {p.value!r}: {p.message}" for p in problems),
            field="rows",
        )
        self.problems = problems


def import_targets(
    command: ImportTargets,
    stores: Stores,
    reader: Callable[[], XSource],
    add: Callable[[XUser, NewTarget], Target],
) -> dict[str, Any]:
    """Check every row, look the new usernames up on X, then add them all, or report and add none."""
    rows = _read_csv(command.csv) if command.csv is not None else _list_rows(command.rows or ())
    if len(rows) > IMPORT_ROWS_MAX:
        raise AdminError(f"at most {IMPORT_ROWS_MAX} targets an import; split the list", field="rows")
    valid, problems = _validated(rows)
    known = {t.username.lower() for t in stores.targets.list_targets()}
    existing = [new for _, new in valid if new.username.lower() in known]
    unknown = [(number, new) for number, new in valid if new.username.lower() not in known]
    found, lookups = _look_up([new.username for _, new in unknown], reader)
    to_add: list[tuple[XUser, NewTarget]] = []
    for number, new in unknown:
        user = found.get(new.username.lower())
        if user is None:
            problems.append(RowProblem(number, "username", new.username, NOT_ON_X))
        else:
            to_add.append((user, new))
    problems.sort(key=lambda p: p.row)
    if problems and not command.skip_invalid:
        raise ImportRejected(problems)
    if not command.dry_run:
        for user, new in to_add:
            add(user, new)
    return {
        "dry_run": command.dry_run,
        "added": [user.username for user, _ in to_add],
        "existing": [new.username for new in existing],
        "invalid": [asdict(p) for p in problems],
        "x_lookups": lookups,
    }


def following(stores: Stores, reader: Callable[[], XSource], limit: int, at: datetime) -> dict[str, Any]:
    """The people the user follows on X, each marked if already a target; the read counts as X spend."""
    x = reader()
    me = me_on_x(stores, x, stores.settings.me())
    day = at.astimezone(UTC).date()
    today = stores.spend.days(day, day).get(day)
    x.usage.billed_before(today.billed if today else ())  # users read earlier today cost nothing more
    users = x.following(me["id"], limit)
    u = x.usage
    stores.spend.add_spend(day, u.spend(), u.billed_now(["users"]))
    known = {t.id for t in stores.targets.list_targets()}
    return {
        "following": [
            {"id": f.id, "username": f.username, "name": f.name, "target": f.id in known} for f in users
        ],
        "x_cost_usd": u.cost.dollars,
    }


def export_targets(targets: list[Target], form: Literal["csv", "json"]) -> dict[str, Any]:
    """Every target as an import reads it back: username, topics and note."""
    rows = [{"username": t.username, "topics": list(t.topics), "note": t.note} for t in targets]
    if form == "json":
        return {"format": "json", "targets": rows}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row | {"topics": TOPIC_SEPARATOR.join(row["topics"])})
    return {"format": "csv", "content": out.getvalue()}


def _read_csv(text: str) -> list[tuple[int, dict[str, Any] | RowProblem]]:
    # A field is at most the whole text (the csv module's own limit, 128 KiB, is lower).
    csv.field_size_limit(max(csv.field_size_limit(), IMPORT_CSV_MAX))
    try:
        return list(_csv_rows(text))
    except csv.Error as exc:  # e.g. a quote left open to the end
        raise AdminError(f"the CSV cannot be read: {exc}", field="csv") from exc


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), restval="")
    header = [name.strip().lower() for name in reader.fieldnames or ()]
    if "username" not in header:
        yield 1, RowProblem(1, "username", ",".join(header), "the first line must name a username column")
        return
    for record in reader:
        row = {name.strip().lower(): (value or "").strip() for name, value in record.items() if name}
        if extra := record.get(None):
            yield reader.line_num, RowProblem(reader.line_num, "row", extra, "more values than columns")
            continue
        if not any(row.values()):
            continue  # a blank line
        topics = [t for t in row.get("topics", "").split(TOPIC_SEPARATOR) if t.strip()]
        yield reader.line_num, {"username": row["username"], "topics": topics, "note": row.get("note", "")}


def _list_rows(rows: tuple[dict[str, Any], ...]) -> list[tuple[int, dict[str, Any] | RowProblem]]:
    return [(number, row) for number, row in enumerate(rows, start=1)]


def _validated(
    rows: list[tuple[int, dict[str, Any] | RowProblem]],
) -> tuple[list[tuple[int, NewTarget]], list[RowProblem]]:
    valid: list[tuple[int, NewTarget]] = []
    problems: list[RowProblem] = []
    first_row: dict[str, int] = {}
    for number, row in rows:
        if isinstance(row, RowProblem):
            problems.append(row)
            continue
        try:
            new = NewTarget.model_validate(row)
        except ValidationError as exc:
            problems.extend(_row_problems(number, row, exc))
            continue
        key = new.username.lower()
        if key in first_row:
            problems.append(RowProblem(number, "username", new.username, f"already on row {first_row[key]}"))
            continue
        first_row[key] = number
        valid.append((number, new))
    return valid, problems


def _row_problems(number: int, row: dict[str, Any], exc: ValidationError) -> list[RowProblem]:
    problems = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        field = key if key.strip() else "row"  # a key without a name: the row is what holds it
        value = row.get(field, json.dumps(row, default=str)) if isinstance(row, dict) else row
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(RowProblem(number, field, _shown(value), message))
    return problems


def _shown(value: Any) -> Any:
    """A refused value as the answer repeats it: long text cut, so the answer stays small."""
    if isinstance(value, str) and len(value) > SHOWN_MAX:
        return value[:SHOWN_MAX] + "…"
    if isinstance(value, list | dict) and len(json.dumps(value, default=str)) > SHOWN_MAX:
        return json.dumps(value, default=str)[:SHOWN_MAX] + "…"
    return value


def _look_up(usernames: list[str], reader: Callable[[], XSource]) -> tuple[dict[str, XUser], int]:
    """The users X knows among ``usernames``, by lowercase name, in batches; and how many lookups."""
    if not usernames:
        return {}, 0  # X is not even connected to when everyone is known already
    x = reader()
    found: dict[str, XUser] = {}
    batches = [usernames[i : i + LOOKUP_BATCH] for i in range(0, len(usernames), LOOKUP_BATCH)]
    for batch in batches:
        found.update({user.username.lower(): user for user in x.users_by_username(batch)})
    return found, len(batches)
