"""Pool reservations: a candidate racing an approved plan on the same state is refused; one
computed after the trade, or after the plan's deadline, passes."""

from __future__ import annotations

import msgspec
from mevbot.market.versions import end_of_block, position
from mevbot.messages import PoolVersion

from services.validator.core import draft_plan, screen
from services.validator.reservations import Reservations
from tests.unit.validator.helpers import context, settings
from tests.unit.validator.test_core import candidate


def approved(c):
    d = screen(c, settings("aggressive"), context()).drafts[0]
    return draft_plan(d, settings("aggressive"), head_block=100, base_fee_wei=10**7)


def test_same_state_conflicts_until_the_deadline_then_frees() -> None:
    c = candidate()
    c = msgspec.structs.replace(c, state_versions=[PoolVersion(h.pool, end_of_block(99)) for h in c.hops])
    plan = approved(c)
    r = Reservations()
    r.reserve(c, [plan])
    other = msgspec.structs.replace(c, candidate_id="other-cycle-same-state")
    assert "approved plan" in r.conflict(other, head_block=100)
    assert r.conflict(other, head_block=plan.deadline_block) is not None
    assert r.conflict(other, head_block=plan.deadline_block + 1) is None  # expired


def test_a_candidate_on_the_state_after_the_trade_passes() -> None:
    c = candidate()
    r = Reservations()
    r.reserve(c, [approved(c)])
    later = msgspec.structs.replace(
        c, candidate_id="after", block_number=c.block_number + 1,
        state_versions=[PoolVersion(h.pool, position(c.block_number + 1, 0, 3)) for h in c.hops],
    )
    assert r.conflict(later, head_block=c.block_number + 1) is None
    # without state versions the candidate's block decides
    older = msgspec.structs.replace(c, candidate_id="older", state_versions=[])
    assert r.conflict(older, head_block=c.block_number) is not None
