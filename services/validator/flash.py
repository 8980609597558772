"""Choice of the flash-loan source for a plan (pure).

The cheapest source that can lend the whole amount wins; ties go to the order of
``FLASH_PREFERENCE`` (Balancer first: fee 0 and no premium rounding). A Uniswap V3 pool that is a
hop of the cycle cannot lend: ``flash()`` locks the pool, and the swap through it would revert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mevbot.errors import ValidationError
from mevbot.messages import FlashSource, FlashSourceKind

from services.validator.costs import aave_flash_premium, balancer_flash_fee, uniswap_v3_flash_fee

FLASH_PREFERENCE = (FlashSourceKind.BALANCER_V2, FlashSourceKind.AAVE_V3, FlashSourceKind.UNISWAP_V3)


@dataclass(frozen=True)
class FlashOption:
    """A lender for one token.

    ``fee_rate`` is in the lender's own unit: Balancer 1e18 fixed-point percentage, Aave premium
    in bps (FLASHLOAN_PREMIUM_TOTAL), Uniswap V3 the pool's fee in pips. ``available`` is what it
    can lend right now (its balance of the token).
    """

    kind: FlashSourceKind
    address: str
    token: str
    available: int
    fee_rate: int

    def fee(self, amount: int) -> int:
        if self.kind is FlashSourceKind.BALANCER_V2:
            return balancer_flash_fee(amount, self.fee_rate)
        if self.kind is FlashSourceKind.AAVE_V3:
            return aave_flash_premium(amount, self.fee_rate)
        return uniswap_v3_flash_fee(amount, self.fee_rate)


def choose_flash_source(
    options: Iterable[FlashOption], loan_token: str, amount: int, hop_pools: Iterable[str]
) -> FlashSource:
    """The cheapest usable lender; raises ValidationError when none can lend ``amount``."""
    hops = {p.lower() for p in hop_pools}
    usable = [
        o for o in options
        if o.token == loan_token and o.available >= amount
        and not (o.kind is FlashSourceKind.UNISWAP_V3 and o.address.lower() in hops)
    ]
    if not usable:
        raise ValidationError(f"no flash-loan source can lend {amount} of {loan_token}")
    best = min(usable, key=lambda o: (o.fee(amount), FLASH_PREFERENCE.index(o.kind)))
    return FlashSource(kind=best.kind, address=best.address, fee=best.fee(amount))
