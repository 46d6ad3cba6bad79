"""A scenario driven by behaviours and a simulated me, end to end: `rapport demo` on a generated world.

Its own module, so that on two workers it runs beside the shipped scenario's demo rather than after it.
"""

from __future__ import annotations

import json

import pytest

from rapport_local.demo import run_demo

pytestmark = pytest.mark.e2e


def stages_of(summary, username):
    return [t["to"] for t in summary["targets"][username]["transitions"]]


BEHAVING = {
    "name": "behaving",
    "start": "2026-04-01T06:00:00Z",
    "days": 4,  # Ana engages keen_k's circle from the fourth morning's digest: the last thing asserted
    "seed": 10,  # a seed where keen_k mentions both friends in the first two days
    "me": {"id": "100", "username": "ana_builds", "name": "Ana", "followers": ["keen_k"]},
    "users": [
        {"id": "200", "username": "keen_k", "name": "Keen K"},
        {"id": "300", "username": "dev_d", "name": "Dev D"},
        {"id": "301", "username": "ops_o", "name": "Ops O"},
    ],
    "targets": ["keen_k"],
    "settings": {"topics": ["serverless"], "timezone": "UTC", "digest_hour": 7},
    "me_acts": {"probability": 1.0, "hours": [1, 2]},
    "behaviours": {
        "keen_k": {
            "posts_per_day": 3,
            "links": 0.5,
            "topics": ["serverless"],
            "talks_with": ["dev_d", "ops_o"],
            "replies_to_questions": {"probability": 1.0, "hours": [1, 3]},
        },
        "dev_d": {"posts_per_day": 1, "links": 0.5},
        "ops_o": {"posts_per_day": 1, "links": 0.5},
    },
}


def test_a_simulated_me_acting_on_each_digest_walks_a_target_on_to_the_circle(tmp_path):
    # Given keen_k follows Ana, posts on their own and answers what they are asked, with nothing
    # scripted, and a simulated Ana who takes every suggestion an hour or two after the digest
    path = tmp_path / "behaving.yaml"
    path.write_text(json.dumps(BEHAVING), encoding="utf-8")
    lines: list[str] = []
    # When the demo runs four days
    summary = run_demo(path, tmp_path / "out", echo=lines.append)
    # Then Ana asked keen_k a question from a digest, their answer moved them to the circle...
    acts = summary["your_actions"]
    ask = next(a for a in acts if a["kind"] == "ask")
    assert stages_of(summary, "keen_k") == ["retweet", "ask", "circle"]
    circle = summary["targets"]["keen_k"]["transitions"][-1]
    assert circle["at"] > ask["at"]
    assert circle["evidence"]  # their reply to Ana's question
    # ...and a later digest had her engage their circle, which she did
    assert any(a["kind"] == "engage_circle" for a in acts), acts
    assert any("you, for @keen_k (ask)" in line for line in lines)
