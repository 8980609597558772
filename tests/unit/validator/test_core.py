"""The validator's pure decision: freshness, tokens, impact -> resize, pre-screen, simulation
comparison, exact final costs, the min-profit and max-position boundaries."""

from __future__ import annotations

from dataclasses import replace

import msgspec
import pytest
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.gas.l1 import l1_from_node_interface
from mevbot.messages import FlashSourceKind

from services.validator import reasons
from services.validator.core import SimulationOutcome, draft_plan, finalize, screen
from services.validator.costs import NativeRate
from services.validator.profiles import PROFILES
from tests.unit.validator.helpers import USDC, WETH, context, settings, v2_cycle_candidate

E18 = 10**18


def pools():
    a = UniswapV2Pool("0xaa", WETH, USDC, 1_000 * E18, 3_100_000 * 10**6, 3000)
    b = UniswapV2Pool("0xbb", WETH, USDC, 1_000 * E18, 3_000_000 * 10**6, 3000)
    return a, b


class Lookup:
    def __init__(self, *pools) -> None:
        self.by_addr = {p.address: p for p in pools}

    def pool(self, address):
        return self.by_addr.get(address)

    def parallel(self, token_in, token_out):
        out = []
        for p in self.by_addr.values():
            if {p.token0, p.token1} == {token_in, token_out}:
                out.append((p, p.token0 == token_in))
        return out


def candidate(amount_in: int = 5 * E18, block: int = 100):
    a, b = pools()
    return v2_cycle_candidate(a, b, amount_in, block=block)


def test_within_profile_goes_as_detected() -> None:
    c = candidate()
    s = screen(c, settings("aggressive"), context())
    assert s.rejection is None and len(s.drafts) == 1
    d = s.drafts[0]
    assert [h.amount_out for h in d.hops] == [h.amount_out for h in c.hops]
    assert all(h.min_amount_out == h.amount_out for h in d.hops)  # no slippage by default
    assert d.flash.kind is FlashSourceKind.BALANCER_V2 and d.flash.fee == 0


@pytest.mark.parametrize(("age", "ok"), [(0, True), (2, True), (3, False), (50, False)])
def test_state_age_boundary(age: int, ok: bool) -> None:
    s = screen(
        candidate(block=100), settings("aggressive", max_state_age_blocks=2), context(head_block=100 + age)
    )
    assert (s.rejection is None) is ok
    if not ok:
        assert s.rejection.reason == reasons.STALE_STATE


@pytest.mark.parametrize(
    ("kw", "fot", "reason"),
    [
        ({"denied_tokens": frozenset({USDC})}, set(), reasons.TOKEN_DENIED),
        ({"allowed_tokens": frozenset({WETH})}, set(), reasons.TOKEN_NOT_ALLOWED),
        ({"allowed_tokens": frozenset({WETH, USDC})}, {USDC}, reasons.FEE_ON_TRANSFER),
        ({}, set(), None),
    ],
)
def test_token_rules(kw, fot, reason) -> None:
    s = screen(candidate(), settings("aggressive", **kw), context(fee_on_transfer=lambda t: t in fot))
    assert (s.rejection.reason if s.rejection else None) == reason


def test_malformed_is_rejected() -> None:
    c = candidate()
    bad = msgspec.structs.replace(c, gross_profit=c.gross_profit + 1)
    assert screen(bad, settings(), context()).rejection.reason == reasons.MALFORMED


def test_over_impact_without_pool_state_is_rejected_then_downsized_with_it() -> None:
    c = candidate(amount_in=20 * E18)  # ~2 % impact per hop: over the conservative limits
    s = screen(c, settings("conservative"), context())
    assert s.rejection.reason == reasons.IMPACT_LIMIT
    a, b = pools()
    s = screen(c, settings("conservative"), context(pools=Lookup(a, b)))
    assert s.rejection is None and len(s.drafts) == 1
    d = s.drafts[0]
    assert d.amount_in < c.amount_in
    assert d.hops[0].amount_out == a.quote_exact_in(True, d.amount_in)
    assert d.hops[1].amount_out == b.quote_exact_in(False, d.hops[0].amount_out)


def test_over_position_is_downsized() -> None:
    c = candidate(amount_in=5 * E18)
    profile = replace(PROFILES["aggressive"], max_position_wei=E18)
    s = screen(c, replace(settings("aggressive"), profile=profile), context(pools=Lookup(*pools())))
    assert s.rejection is None and s.drafts[0].amount_in <= E18
    assert (
        screen(c, replace(settings("aggressive"), profile=profile), context()).rejection.reason
        == reasons.POSITION_LIMIT
    )


def test_prescreen_rejects_when_gas_eats_the_profit() -> None:
    c = candidate()
    s = screen(c, settings("aggressive"), context(base_fee_wei=c.gross_profit))  # absurd gas price
    assert s.rejection.reason == reasons.BELOW_MIN_PROFIT


def _approved_setup(profile_min_wei: int | None = None):
    c = candidate()
    st = settings("aggressive")
    if profile_min_wei is not None:
        st = replace(st, profile=replace(st.profile, min_net_profit_wei=profile_min_wei))
    ctx = context()
    d = screen(c, st, ctx).drafts[0]
    plan = draft_plan(d, st, head_block=100, base_fee_wei=ctx.base_fee_wei)
    sim = SimulationOutcome(
        True, tuple(h.amount_out for h in plan.hops), plan.expected_profit, gas_used=230_000
    )
    return c, st, ctx, plan, sim


def test_finalize_exact_costs_guard_and_bid() -> None:
    c, st, ctx, plan, sim = _approved_setup()
    st = replace(st, gas_estimate_includes_l1=False)  # anvil: the estimate holds no L1 units
    l1 = l1_from_node_interface(1_500, ctx.base_fee_wei)
    out = finalize(plan, sim, l1, ctx.base_fee_wei, NativeRate.IDENTITY, st)
    assert not isinstance(out, tuple), out
    gas_wei = 230_000 * ctx.base_fee_wei + 1_500 * ctx.base_fee_wei
    assert out.costs.l2_gas_cost_wei + out.costs.l1_gas_cost_wei == gas_wei
    assert out.costs.net_profit == c.gross_profit - gas_wei
    assert out.expected_net_profit_wei == c.gross_profit - gas_wei
    assert out.gas_limit == -(-(231_500 * 15_000) // 10_000)
    assert out.max_fee_per_gas_wei == 2 * ctx.base_fee_wei
    assert 1 <= out.min_profit <= out.expected_profit
    assert out.simulated and out.deadline_block == 100 + st.deadline_blocks


def test_min_net_profit_boundary() -> None:
    c, st, ctx, plan, sim = _approved_setup()
    l1 = l1_from_node_interface(0, ctx.base_fee_wei)
    net = c.gross_profit - 230_000 * ctx.base_fee_wei
    for min_wei, ok in ((net, True), (net + 1, False)):
        st2 = replace(st, profile=replace(st.profile, min_net_profit_wei=min_wei))
        out = finalize(plan, sim, l1, ctx.base_fee_wei, NativeRate.IDENTITY, st2)
        assert (not isinstance(out, tuple)) is ok
        if not ok:
            assert out[0] == reasons.BELOW_MIN_PROFIT


def test_max_position_boundary_at_finalize() -> None:
    _c, st, ctx, plan, sim = _approved_setup()
    l1 = l1_from_node_interface(0, ctx.base_fee_wei)
    for max_wei, ok in ((plan.loan_amount, True), (plan.loan_amount - 1, False)):
        st2 = replace(st, profile=replace(st.profile, max_position_wei=max_wei))
        out = finalize(plan, sim, l1, ctx.base_fee_wei, NativeRate.IDENTITY, st2)
        assert (not isinstance(out, tuple)) is ok


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: replace(s, success=False, error="Shortfall(5)"), reasons.SIMULATION_REVERTED),
        (
            lambda s: replace(s, hop_amounts_out=(s.hop_amounts_out[0] - 1,) + s.hop_amounts_out[1:]),
            reasons.SIMULATION_MISMATCH,
        ),
        (lambda s: replace(s, profit=s.profit + 1), reasons.SIMULATION_MISMATCH),
        (lambda s: replace(s, hop_amounts_out=(), profit=None), reasons.SIMULATION_MISMATCH),
    ],
)
def test_simulation_must_equal_prediction(change, reason) -> None:
    _, st, ctx, plan, sim = _approved_setup()
    out = finalize(
        plan,
        change(sim),
        l1_from_node_interface(0, ctx.base_fee_wei),
        ctx.base_fee_wei,
        NativeRate.IDENTITY,
        st,
    )
    assert isinstance(out, tuple) and out[0] == reason


def test_arbitrum_estimate_already_contains_the_l1_units() -> None:
    _c, st, ctx, plan, sim = _approved_setup()
    l1 = l1_from_node_interface(1_500, ctx.base_fee_wei)
    out = finalize(plan, sim, l1, ctx.base_fee_wei, NativeRate.IDENTITY, st)  # default: includes L1
    assert out.costs.l2_gas_cost_wei == (230_000 - 1_500) * ctx.base_fee_wei
    assert out.costs.l1_gas_cost_wei == 1_500 * ctx.base_fee_wei
    assert out.gas_limit == -(-(230_000 * 15_000) // 10_000)
