"""Table-driven tests of the profile boundaries: every category, every profile, just under and
just over every threshold."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.validator.core import assess_impact, hop_limit_ppm
from services.validator.impact import path_impact_ppm
from services.validator.profiles import PROFILES, RiskCategory, categorize, profile_table
from tests.unit.validator.helpers import impact_hop

N, L, M, H, X = (
    RiskCategory.NEGLIGIBLE,
    RiskCategory.LOW,
    RiskCategory.MEDIUM,
    RiskCategory.HIGH,
    RiskCategory.EXTREME,
)


@pytest.mark.parametrize(
    ("impact_ppm", "category"),
    [
        (0, N),
        (999, N),
        (1000, L),
        (4999, L),
        (5000, M),
        (9999, M),
        (10000, H),
        (29999, H),
        (30000, X),
        (10**6, X),
    ],
)
def test_category_bounds(impact_ppm: int, category: RiskCategory) -> None:
    assert categorize(impact_ppm) is category


ACCEPTS = {
    "conservative": {N: True, L: True, M: False, H: False, X: False},
    "default": {N: True, L: True, M: True, H: False, X: False},
    "aggressive": {N: True, L: True, M: True, H: True, X: False},
}


@pytest.mark.parametrize("profile", list(ACCEPTS))
@pytest.mark.parametrize("category", list(RiskCategory))
def test_profile_accepts_category(profile: str, category: RiskCategory) -> None:
    assert PROFILES[profile].accepts(category) is ACCEPTS[profile][category]


# a representative impact inside each category
CATEGORY_SAMPLE = {N: 500, L: 2000, M: 7000, H: 15000, X: 50000}


@pytest.mark.parametrize("profile", list(ACCEPTS))
@pytest.mark.parametrize("category", list(RiskCategory))
def test_category_decides_when_thresholds_are_wide(profile: str, category: RiskCategory) -> None:
    """With the numeric thresholds opened up, acceptance follows the category table alone."""
    p = replace(PROFILES[profile], max_hop_impact_ppm=10**6, max_path_impact_ppm=10**6)
    a = assess_impact([impact_hop(CATEGORY_SAMPLE[category])], p)
    assert a.category is category
    assert a.within is ACCEPTS[profile][category]


@pytest.mark.parametrize("profile", list(PROFILES))
def test_hop_impact_threshold(profile: str) -> None:
    p = PROFILES[profile]
    limit = hop_limit_ppm(p)
    assert limit == p.max_hop_impact_ppm  # the defaults keep the hop threshold below the category cap
    assert assess_impact([impact_hop(limit)], p).within
    over = assess_impact([impact_hop(limit + 1)], p)
    assert not over.within and any("hop impact" in v for v in over.violations)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_path_impact_threshold(profile: str) -> None:
    p = PROFILES[profile]
    a = p.max_hop_impact_ppm  # hops at their own limit, then the last hop that tips the path over
    head = [a]
    while path_impact_ppm(head + [a]) <= p.max_path_impact_ppm:
        head.append(a)
    b = next(b for b in range(a + 1) if path_impact_ppm(head + [b]) > p.max_path_impact_ppm)
    hops = [impact_hop(x, pool=f"0x{i}") for i, x in enumerate(head)]
    under = assess_impact(hops + [impact_hop(b - 1, pool="0xff")], p)
    over = assess_impact(hops + [impact_hop(b, pool="0xff")], p)
    assert under.path_ppm <= p.max_path_impact_ppm < over.path_ppm
    assert under.within
    assert not over.within and any("path impact" in v for v in over.violations)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_ticks_crossed_threshold(profile: str) -> None:
    p = PROFILES[profile]
    assert assess_impact([impact_hop(100, ticks=p.max_ticks_crossed)], p).within
    over = assess_impact([impact_hop(100, ticks=p.max_ticks_crossed + 1)], p)
    assert not over.within and any("ticks" in v for v in over.violations)


def test_profiles_are_ordered_by_appetite() -> None:
    c, d, a = PROFILES["conservative"], PROFILES["default"], PROFILES["aggressive"]
    for field in ("max_hop_impact_ppm", "max_path_impact_ppm", "max_ticks_crossed", "max_position_wei"):
        assert getattr(c, field) < getattr(d, field) < getattr(a, field), field
    assert c.min_net_profit_wei > d.min_net_profit_wei > a.min_net_profit_wei


@pytest.mark.parametrize(
    ("global_min", "global_max", "want_min", "want_max"),
    [
        (0, 10**30, PROFILES["default"].min_net_profit_wei, PROFILES["default"].max_position_wei),
        (5 * 10**16, 10**18, 5 * 10**16, 10**18),  # the runbook's values are stricter: they win
    ],
)
def test_global_limits_tighten(global_min: int, global_max: int, want_min: int, want_max: int) -> None:
    p = PROFILES["default"].with_global_limits(global_min, global_max)
    assert (p.min_net_profit_wei, p.max_position_wei) == (want_min, want_max)


def test_profile_table_lists_every_profile_and_threshold() -> None:
    table = profile_table()
    for name in (
        "Conservative",
        "Default",
        "Aggressive",
        "VALIDATOR_MAX_HOP_IMPACT_BPS",
        "Negligible, Low, Medium",
    ):
        assert name in table


def test_profiles_doc_is_current() -> None:
    from pathlib import Path

    from services.validator.profiles import profiles_doc

    doc = Path(__file__).resolve().parents[3] / "docs" / "validator_profiles.md"
    assert doc.read_text() == profiles_doc(), (
        "regenerate: python -c 'from services.validator.profiles import ...'"
    )
