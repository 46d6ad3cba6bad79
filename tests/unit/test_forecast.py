"""The budget fits the targets: their expected monthly X cost from how often they post."""

from __future__ import annotations

from datetime import timedelta

from rapport.domain.forecast import forecast_targets, monthly_cost, posts_per_day
from rapport.domain.model import InteractionKind as K
from rapport.domain.money import USD
from rapport.domain.policy import Policy
from rapport.usecases.admin import status
from tests.factories import T0, at, evidence, post, target
from tests.fakes import memory_stores


def posts(n: int, *, every_hours: float, start_hours: float = 0, by: str = "200"):
    made = []
    for k in range(n):
        p = post("A post", when=at(start_hours + k * every_hours), by=by)
        made.append(evidence(K.TARGET_POST, p.created_at, target_id=by, ev_id=p.id, the_post=p))
    return made


def test_a_target_s_posting_rate_is_measured_over_the_last_two_weeks_of_stored_posts():
    # Given 40 posts over the last 20 days, two a day, and a mention of us that is not a post read
    history = [*posts(40, every_hours=12), evidence(K.MENTION, at(5))]
    now = at(20 * 24)
    # When the rate is measured / Then only the last 14 days count: 28 posts, 2 a day
    assert posts_per_day(history, observed_since=T0 - timedelta(days=7), now=now) == 2.0
    # And a target observed for 5 days only is measured on those 5 days
    assert posts_per_day(history[:10], observed_since=T0, now=at(5 * 24)) == 2.0


def test_a_month_of_reads_costs_the_posts_a_day_times_thirty_times_the_list_price():
    # 2 + 8 posts a day, 30 days, $0.005 a post
    assert monthly_cost([2.0, 8.0]) == USD.of("1.50")


def test_the_warning_names_the_figure_and_the_budget_only_when_the_budget_is_too_small():
    # Given two targets: @loud posts 40 a day, @quiet 1 a day, read from a day before they were added
    people = [target("loud", "201"), target("quiet", "202")]
    stored = {
        "201": posts(8 * 40, every_hours=24 / 40, start_hours=-24, by="201"),
        "202": posts(8, every_hours=24, start_hours=-24, by="202"),
    }
    now = at(7 * 24)
    # When the forecast is made against the default $5 budget, then against $10
    tight = forecast_targets(people, stored, Policy(first_read_days=1), now)
    roomy = forecast_targets(people, stored, Policy(first_read_days=1, x_monthly_budget_usd=10), now)
    # Then (41 posts a day x 30 x $0.005 = $6.15) the $5 budget is warned about, with the figures
    assert tight.expected == USD.of("6.15")
    warning = tight.warning()
    assert warning is not None
    assert "about $6.15 a month" in warning
    assert "over your $5.00 budget" in warning
    assert "@loud 40.0/day, @quiet 1.0/day" in warning
    assert roomy.warning() is None


def test_the_status_setup_reads_carries_the_expected_monthly_cost_and_its_warning():
    stores = memory_stores()
    stores.targets.put_target(target("loud", "201"))
    for i in posts(14 * 60, every_hours=24 / 60, start_hours=-6 * 24, by="201"):  # 14 days read
        stores.evidence.add_interaction(i)
    spend = status(stores, at(8 * 24))["x_spend"]
    assert spend["expected_monthly_usd"] == 9.0  # 60 a day x 30 x $0.005
    assert "about $9.00 a month" in spend["budget_warning"]
