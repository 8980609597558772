"""Price-impact profiles and risk categories (pure).

Impact is measured in ppm (parts per million, 1 bps = 100 ppm): how much worse a hop's execution
price is than the pool's mid price before it, fee excluded (see :mod:`services.validator.impact`). A trade's *risk category* is the category of
its worst hop. A profile is a set of thresholds plus the categories it accepts; the operator picks
one with ``VALIDATOR_PROFILE`` and may override any threshold (``services.validator.config``).

Category bounds (upper bounds, exclusive) default to 10 / 50 / 100 / 300 bps:

==========  ==================
Negligible  impact < 10 bps
Low         10 bps <= impact < 50 bps
Medium      50 bps <= impact < 100 bps
High        100 bps <= impact < 300 bps
Extreme     impact >= 300 bps
==========  ==================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

PPM_PER_BPS = 100
WEI_PER_ETH = 10**18


class RiskCategory(str, enum.Enum):
    NEGLIGIBLE = "negligible"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    EXTREME = "extreme"

    @property
    def rank(self) -> int:
        return _RANK[self]


_ORDER = (RiskCategory.NEGLIGIBLE, RiskCategory.LOW, RiskCategory.MEDIUM, RiskCategory.HIGH, RiskCategory.EXTREME)
_RANK = {c: i for i, c in enumerate(_ORDER)}

#: exclusive upper bounds of Negligible, Low, Medium, High (ppm); above the last is Extreme
DEFAULT_CATEGORY_BOUNDS_PPM: tuple[int, int, int, int] = (10 * 100, 50 * 100, 100 * 100, 300 * 100)


def categorize(impact_ppm: int, bounds_ppm: tuple[int, ...] = DEFAULT_CATEGORY_BOUNDS_PPM) -> RiskCategory:
    """The risk category of a price impact."""
    for category, bound in zip(_ORDER, bounds_ppm):
        if impact_ppm < bound:
            return category
    return RiskCategory.EXTREME


def categories_up_to(worst: RiskCategory) -> frozenset[RiskCategory]:
    return frozenset(c for c in _ORDER if c.rank <= worst.rank)


@dataclass(frozen=True)
class ImpactProfile:
    """Thresholds of one profile. Impacts in ppm, amounts in wei of the native token."""

    name: str
    max_hop_impact_ppm: int
    max_path_impact_ppm: int
    max_ticks_crossed: int  # per hop (initialized ticks crossed)
    min_net_profit_wei: int
    max_position_wei: int
    accepted: frozenset[RiskCategory]
    category_bounds_ppm: tuple[int, ...] = DEFAULT_CATEGORY_BOUNDS_PPM

    def accepts(self, category: RiskCategory) -> bool:
        return category in self.accepted

    def with_global_limits(self, min_profit_threshold_wei: int, max_position_size_wei: int) -> ImpactProfile:
        """The runbook's global limits tighten the profile: the stricter of each pair applies."""
        return replace(
            self,
            min_net_profit_wei=max(self.min_net_profit_wei, min_profit_threshold_wei),
            max_position_wei=min(self.max_position_wei, max_position_size_wei),
        )


#: Documented defaults (docs/validator_profiles.md is generated from this table by ``profile_table``).
PROFILES: dict[str, ImpactProfile] = {
    "conservative": ImpactProfile(
        name="conservative",
        max_hop_impact_ppm=30 * PPM_PER_BPS,
        max_path_impact_ppm=50 * PPM_PER_BPS,
        max_ticks_crossed=2,
        min_net_profit_wei=WEI_PER_ETH // 2_000,  # 0.0005 ETH
        max_position_wei=1 * WEI_PER_ETH,
        accepted=categories_up_to(RiskCategory.LOW),
    ),
    "default": ImpactProfile(
        name="default",
        max_hop_impact_ppm=75 * PPM_PER_BPS,
        max_path_impact_ppm=150 * PPM_PER_BPS,
        max_ticks_crossed=5,
        min_net_profit_wei=WEI_PER_ETH // 20_000,  # 0.00005 ETH (the real Arbitrum median profit)
        max_position_wei=10 * WEI_PER_ETH,
        accepted=categories_up_to(RiskCategory.MEDIUM),
    ),
    "aggressive": ImpactProfile(
        name="aggressive",
        max_hop_impact_ppm=200 * PPM_PER_BPS,
        max_path_impact_ppm=400 * PPM_PER_BPS,
        max_ticks_crossed=20,
        min_net_profit_wei=WEI_PER_ETH // 200_000,  # 0.000005 ETH
        max_position_wei=100 * WEI_PER_ETH,
        accepted=categories_up_to(RiskCategory.HIGH),
    ),
}


def _fmt_ppm(ppm: int) -> str:
    return f"{ppm / PPM_PER_BPS:g} bps ({ppm / 10_000:g} %)"


def _fmt_wei(wei: int) -> str:
    from decimal import Decimal

    text = format(Decimal(wei) / Decimal(WEI_PER_ETH), "f")
    return f"{text.rstrip('0').rstrip('.') if '.' in text else text} ETH"


def profile_table(profiles: dict[str, ImpactProfile] | None = None) -> str:
    """Markdown table of the profiles (the README's profile table)."""
    profiles = profiles or PROFILES
    names = list(profiles)
    rows = [
        "| threshold | env override | " + " | ".join(n.capitalize() for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]

    def row(label: str, env: str, fmt) -> None:
        rows.append(f"| {label} | `{env}` | " + " | ".join(fmt(profiles[n]) for n in names) + " |")

    row("max price impact per hop", "VALIDATOR_MAX_HOP_IMPACT_BPS", lambda p: _fmt_ppm(p.max_hop_impact_ppm))
    row("max price impact of the path", "VALIDATOR_MAX_PATH_IMPACT_BPS", lambda p: _fmt_ppm(p.max_path_impact_ppm))
    row("max initialized ticks crossed per hop", "VALIDATOR_MAX_TICKS_CROSSED", lambda p: str(p.max_ticks_crossed))
    row("min net profit (after flash fee and gas)", "VALIDATOR_MIN_NET_PROFIT_WEI", lambda p: _fmt_wei(p.min_net_profit_wei))
    row("max position (loan size)", "VALIDATOR_MAX_POSITION_WEI", lambda p: _fmt_wei(p.max_position_wei))
    row(
        "risk categories accepted",
        "VALIDATOR_ACCEPTED_CATEGORIES",
        lambda p: ", ".join(c.value.capitalize() for c in _ORDER if c in p.accepted),
    )
    return "\n".join(rows)


def category_table(bounds_ppm: tuple[int, ...] = DEFAULT_CATEGORY_BOUNDS_PPM) -> str:
    """Markdown table of the risk categories and their impact ranges."""
    rows = ["| category | price impact of the worst hop |", "|---|---|"]
    lo = 0
    for category, hi in zip(_ORDER, bounds_ppm):
        rows.append(f"| {category.value.capitalize()} | {lo / PPM_PER_BPS:g} bps <= impact < {hi / PPM_PER_BPS:g} bps |")
        lo = hi
    rows.append(f"| {RiskCategory.EXTREME.value.capitalize()} | impact >= {lo / PPM_PER_BPS:g} bps |")
    return "\n".join(rows)


def reason_table() -> str:
    from services.validator.reasons import DESCRIPTIONS

    return "\n".join(["| reason | when |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in DESCRIPTIONS.items()])


def profiles_doc() -> str:
    """``docs/validator_profiles.md`` (a test keeps the file equal to this)."""
    return f"""# Validator price-impact profiles

`VALIDATOR_PROFILE` selects one profile (default: `default`). Every threshold can be overridden on
its own with the variable in the second column. The runbook's global limits apply on top:
the effective minimum net profit is the larger of the profile's and `MIN_PROFIT_THRESHOLD`, the
effective maximum position the smaller of the profile's and `MAX_POSITION_SIZE` (both in wei).

Price impact is how much worse a hop's execution price is than the pool's mid price before the
trade, fee excluded (`1 - amount_out / (amount_in_after_fee * mid)`, integer ppm rounded up; on a
constant-product pool `in / (reserve_in + in)`); the path's impact compounds the hops. A trade's risk category is the category of its worst hop. Thresholds are inclusive: a trade
exactly at a limit passes, one unit (1 ppm, 1 tick, 1 wei) over it does not.

{profile_table()}

{category_table()}

When a candidate breaks a limit (impact, ticks, category or position), the validator does not
simply drop it: it sizes it down to the most profitable input that respects every limit, or splits
it into parts routed through parallel pools of the same pair (for example WETH/USDC at the 500 and
3000 fee tiers), each part paying its own flash fee and gas and earning at least the minimum net
profit; the split is preferred only when the parts together earn more than the single path.
Net profit = gross - flash-loan fee of the chosen lender - gas (L2 at base fee + priority bid, plus
Arbitrum's L1 data component), converted into the profit token at live pool prices, exact in wei.

## Rejection reasons

Every rejection is published on `mev.rejections` with one of these codes, counted by
`mev_validator_rejections_total{{reason}}`:

{reason_table()}
"""
