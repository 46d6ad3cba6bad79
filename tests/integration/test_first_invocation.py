"""Import + first invocation: a handler's first request on the local stack, in a new interpreter."""

from __future__ import annotations

import pytest

from rapport_local.first_invocation import measure_first_invocations

pytestmark = pytest.mark.integration


def test_the_first_request_is_measured_with_the_import_against_boto3():
    # Given the feedback function, cold, and a digest's pause link to open
    # When one new interpreter imports it and answers the link (the tool fails on a refusal)
    rows = measure_first_invocations(["feedback"], runs=1)

    # Then boto3 is the unit, and the import and the request cost more than the import alone
    assert [row.module for row in rows] == ["boto3", "feedback"]
    assert rows[0].cpu_ratio == 1.0
    assert rows[1].cpu_s > rows[0].cpu_s
