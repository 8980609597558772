"""Pools that approved plans are about to trade (pure).

Several cycles often share the pool a dislocation opened; each one alone simulates fine on the
latest block, but once the first lands the others trade on moved prices and revert, and a revert
costs gas. So an approved plan *reserves* its pools until its deadline block: a later candidate
computed on the same (or an older) state of a reserved pool is rejected (``pool_reserved``),
while one computed on the state after the trade (a newer version) passes.

Versions are :mod:`mevbot.market.versions` chain positions; a plan's trade lands in a later block
than its candidate's, so anything computed after it carries a version above
``end_of_block(candidate.block_number)``. Reservations are per replica (a shared store would make
them global across replicas).
"""

from __future__ import annotations

from collections.abc import Sequence

from mevbot.market.versions import end_of_block
from mevbot.messages import Candidate, ExecutionPlan


class Reservations:
    def __init__(self) -> None:
        self._by_pool: dict[str, tuple[int, int, str]] = {}  # pool -> (version, deadline block, plan id)

    def __len__(self) -> int:
        return len(self._by_pool)

    def conflict(self, c: Candidate, head_block: int) -> str | None:
        """Why ``c`` would race an approved plan, or None."""
        versions = {pv.pool: pv.version for pv in c.state_versions}
        own_version = end_of_block(c.block_number)
        for hop in c.hops:
            reserved = self._by_pool.get(hop.pool)
            if reserved is None:
                continue
            version, deadline, plan_id = reserved
            if head_block > deadline:
                del self._by_pool[hop.pool]
                continue
            if versions.get(hop.pool, own_version) <= version:
                return f"pool {hop.pool} is traded by approved plan {plan_id} until block {deadline}"
        return None

    def reserve(self, c: Candidate, plans: Sequence[ExecutionPlan]) -> None:
        version = end_of_block(c.block_number)
        for plan in plans:
            for hop in plan.hops:
                self._by_pool[hop.pool] = (version, plan.deadline_block, plan.plan_id)

    def expire(self, head_block: int) -> None:
        self._by_pool = {p: r for p, r in self._by_pool.items() if r[1] >= head_block}


def claim_keys(c: Candidate, plans: Sequence[ExecutionPlan]) -> list[str]:
    """Keys that make the reservation global across replicas (Redis ``SET NX``): one per pool and
    the pool state the candidate saw, so only candidates on the *same* state collide."""
    versions = {pv.pool: pv.version for pv in c.state_versions}
    fallback = end_of_block(c.block_number)
    pools = sorted({hop.pool for plan in plans for hop in plan.hops})
    return [f"reserve:{pool}:{versions.get(pool, fallback)}" for pool in pools]
