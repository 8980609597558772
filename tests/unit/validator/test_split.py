"""Split recommendation: downsizing within the limits, splitting across parallel pools of the same
pair, and preferring the split only when it earns more (each part pays its own costs)."""

from __future__ import annotations

from mevbot.amm.cycle import cycle_amounts
from mevbot.amm.v2 import UniswapV2Pool

from services.validator.split import Limits, recommend
from tests.unit.validator.helpers import USDC, WETH, v3_full_range_pool

E18 = 10**18


def market():
    # deep V2 pair selling WETH at 3,100 USDC; two shallow V3 tiers buying it back at 3,000
    deep = UniswapV2Pool("0xa0", WETH, USDC, 10_000 * E18, 31_000_000 * 10**6, 3000)
    b500 = v3_full_range_pool("0xb5", 3000e6 / 1e18, 5 * 10**15, fee_pips=500, tick_spacing=10)
    b3000 = v3_full_range_pool("0xb3", 3000e6 / 1e18, 5 * 10**15, fee_pips=3000, tick_spacing=60)
    return deep, b500, b3000


LIMITS = Limits(
    max_hop_impact_ppm=7_500, max_path_impact_ppm=15_000, max_ticks_crossed=5, max_input=100 * E18
)


def flat_cost(cost: int):
    return lambda amount_in: cost


def test_downsize_respects_every_limit_and_is_exact() -> None:
    deep, b500, _ = market()
    path = [(deep, True), (b500, False)]
    d = recommend(path, LIMITS, flat_cost(10**12))
    assert d is not None and d.kind == "downsized" and len(d.parts) == 1
    part = d.parts[0]
    assert max(part.hop_impacts_ppm) <= LIMITS.max_hop_impact_ppm
    assert part.path_impact_ppm <= LIMITS.max_path_impact_ppm
    assert part.amounts == tuple(cycle_amounts(path, part.amount_in))  # exact on the original pools
    # one wei more than the largest allowed size breaks the hop limit on the shallow pool
    from services.validator.split import _Book, max_size_within_limits

    cap = max_size_within_limits(_Book([deep, b500]), path, LIMITS)
    assert part.amount_in <= cap
    assert _Book([deep, b500]).trial(path, cap + 1, LIMITS) is None
    assert part.net_profit == part.gross_profit - 10**12
    # the original pools were not touched
    fresh = market()
    assert (deep.reserve0, b500.sqrt_price_x96) == (fresh[0].reserve0, fresh[1].sqrt_price_x96)


def test_split_across_parallel_tiers_earns_more() -> None:
    deep, b500, b3000 = market()
    path = [(deep, True), (b500, False)]
    d = recommend(path, LIMITS, flat_cost(10**12), alternatives={1: [(b3000, False)]})
    assert d is not None and d.kind == "split" and len(d.parts) == 2
    assert {p.pools[1] for p in d.parts} == {"0xb5", "0xb3"}
    assert d.net_profit > d.single_net_profit > 0
    # parts replay exactly in order on copies of the pools, and together stay within the limits
    pools = {p.address: p.copy() for p in (deep, b500, b3000)}
    for part in d.parts:
        a = part.amount_in
        for addr, zfo, want in zip(part.pools, part.directions, part.amounts[1:]):
            a = pools[addr].execute_swap(zfo, a).amount_out
            assert a == want
        assert max(part.hop_impacts_ppm) <= LIMITS.max_hop_impact_ppm
    # every part earns on its own
    assert all(p.net_profit > 0 for p in d.parts)
    # the parts were committed on copies (made on first write): the given pools did not move
    fresh = market()
    assert [(p.state_version, getattr(p, "sqrt_price_x96", None), getattr(p, "reserve0", None)) for p in (deep, b500, b3000)] \
        == [(p.state_version, getattr(p, "sqrt_price_x96", None), getattr(p, "reserve0", None)) for p in fresh]


def test_split_not_preferred_when_a_second_part_does_not_pay_its_costs() -> None:
    deep, b500, b3000 = market()
    path = [(deep, True), (b500, False)]
    single = recommend(path, LIMITS, flat_cost(10**12))
    assert single is not None
    # costs so high that only one part can pay them: no split
    huge = single.parts[0].gross_profit - 1
    d = recommend(path, LIMITS, flat_cost(huge), alternatives={1: [(b3000, False)]})
    assert d is not None and d.kind == "downsized" and len(d.parts) == 1


def test_nothing_fits_returns_none() -> None:
    deep, b500, _ = market()
    tight = Limits(max_hop_impact_ppm=0, max_path_impact_ppm=0, max_ticks_crossed=0, max_input=100 * E18)
    assert recommend([(deep, True), (b500, False)], tight, flat_cost(0)) is None


def test_max_position_caps_the_size() -> None:
    deep, b500, _ = market()
    small = Limits(7_500, 15_000, 5, max_input=E18 // 10)
    d = recommend([(deep, True), (b500, False)], small, flat_cost(0))
    assert d is not None and d.parts[0].amount_in <= E18 // 10
