"""The link library in the settings: its limits through the admin API, and the CLI's edits of it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from rapport.domain.policy import MAX_LINK_TOPICS, MAX_LINKS, MAX_TITLE_CHARS, MAX_URL_CHARS
from rapport_local.stack_commands import Trouble, edit_library, links_table, settings_table
from tests.unit.test_admin_api import Api


@pytest.fixture
def api() -> Api:
    return Api()


def link(n: int = 1, **kw: Any) -> dict[str, Any]:
    return {"url": f"https://example.com/{n}", "title": f"Resource {n}", "topics": ["lambda"]} | kw


def test_the_library_is_kept_in_the_settings_tidied(api: Api) -> None:
    # When the person saves two resources, one with untidy title and topics
    reply = api(
        "PATCH",
        "/settings",
        {"links": [link(1, title="  Cold   starts ", topics=["Lambda", " lambda "]), link(2)]},
    )
    # Then both are kept, in order, the title on one line and the topics as answers match them
    assert reply.status == 200
    saved = api("GET", "/settings").body["settings"]["links"]
    assert saved == [
        {"url": "https://example.com/1", "title": "Cold starts", "topics": ["lambda"]},
        {"url": "https://example.com/2", "title": "Resource 2", "topics": ["lambda"]},
    ]
    # And changing another setting keeps the library
    api("PATCH", "/settings", {"daily_actions": 3})
    assert api("GET", "/settings").body["settings"]["links"] == saved


@pytest.mark.parametrize(
    ("links", "words"),
    [
        ([link(n) for n in range(MAX_LINKS + 1)], f"at most {MAX_LINKS}"),
        ([link(url="ftp://example.com/file")], "http(s) address"),
        ([link(url="https://example.com/a b")], "http(s) address"),
        ([link(url="https://example.com/" + "a" * MAX_URL_CHARS)], f"at most {MAX_URL_CHARS}"),
        ([link(title="x" * (MAX_TITLE_CHARS + 1))], f"at most {MAX_TITLE_CHARS}"),
        ([link(title="   ")], "visible character"),
        ([link(topics=[f"t{n}" for n in range(MAX_LINK_TOPICS + 1)])], f"at most {MAX_LINK_TOPICS}"),
        ([link(1), link(1, title="Again")], "twice"),
        ([{"url": "https://example.com/1"}], "Field required"),
    ],
)
def test_a_bad_library_is_refused_naming_the_links_and_changes_nothing(
    api: Api, links: list[dict[str, Any]], words: str
) -> None:
    # Given a library of one resource
    api("PATCH", "/settings", {"links": [link(7)]})
    before = api.snapshot()
    # When a bad library is sent
    reply = api("PATCH", "/settings", {"links": links})
    # Then it is refused, naming the links and the problem, and nothing changed
    assert reply.status == 400
    assert any(e["field"].startswith("links") and words in e["message"] for e in reply.body["error"]), (
        reply.body
    )
    assert api.memory == before


def test_adding_appends_and_adding_the_same_url_replaces_it_in_place() -> None:
    library = [link(1), link(2)]
    added = edit_library(library, "add", "https://example.com/3", title="Three", topics=["go"])
    assert [entry["url"] for entry in added] == [f"https://example.com/{n}" for n in (1, 2, 3)]
    replaced = edit_library(added, "add", " https://example.com/1 ", title="One again")
    assert [entry["title"] for entry in replaced] == ["One again", "Resource 2", "Three"]


def test_removing_takes_out_the_url_and_an_unknown_url_is_a_mistake() -> None:
    assert edit_library([link(1), link(2)], "remove", "https://example.com/1") == [link(2)]
    with pytest.raises(Trouble, match="no link"):
        edit_library([link(1)], "remove", "https://example.com/9")


def test_the_settings_table_counts_the_links_and_the_links_table_lists_them() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    console.print(settings_table({"links": [link(1), link(2)], "digest_hour": 7}))
    console.print(links_table([link(1, title="Cold starts", topics=["lambda", "cold start"])]))
    shown = out.getvalue()
    assert "2 (see `rapport settings links`)" in shown
    assert "Cold starts" in shown
    assert "lambda, cold start" in shown
    assert "https://example.com/1" in shown
