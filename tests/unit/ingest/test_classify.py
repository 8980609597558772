"""Pool-version detection: CREATE2 acceptance on real Arbitrum pools, bait rejection."""

from __future__ import annotations

import pytest
from mevbot.chainconfig import default_chain_config
from mevbot.messages import PoolKind

from services.ingest.classify import classify, from_creation
from services.ingest.snapshot import bitmap_words, ticks_in_word

CHAIN = default_chain_config()
WETH = "0x82af49447d8a07e3bd95bd0d56f35241523fbab1"
USDC = "0xaf88d065e77c8cc2239327c5edb3a432268e5831"
UNI_V3 = "0x1f98431c8ad98523631ae4a59f267346ea31f984"
# Uniswap V3 WETH/USDC 0.05 % on Arbitrum One (the busiest pool; from the shared pool list)
WETH_USDC_500 = "0xc6962004f452be9203591991d15f6b388e09e8d0"


def w(value: int) -> str:
    return "0x" + format(value % (1 << 256), "064x")


def answers(factory: str, t0: str, t1: str, *, fee: int | None = None, spacing: int | None = None,
            reserves: bool = False, global_state: bool = False) -> dict[str, str | None]:
    return {
        "factory": w(int(factory, 16)), "token0": w(int(t0, 16)), "token1": w(int(t1, 16)),
        "fee": w(fee) if fee is not None else None, "tickSpacing": w(spacing) if spacing is not None else None,
        "getReserves": "0x" + "00" * 96 if reserves else None,
        "globalState": "0x" + "00" * 32 * 7 if global_state else None,
    }


def test_real_uniswap_v3_pool_is_accepted() -> None:
    d = classify(WETH_USDC_500, answers(UNI_V3, WETH, USDC, fee=500, spacing=10), CHAIN)
    assert d.accepted, d.reason
    assert d.info.kind is PoolKind.UNISWAP_V3 and d.info.fee_pips == 500 and d.info.tick_spacing == 10
    assert (d.info.token0, d.info.token1, d.info.decimals0, d.info.decimals1) == (WETH, USDC, 18, 6)


def test_bait_impersonating_a_pool_is_rejected() -> None:
    bait = "0x" + "be" * 20
    d = classify(bait, answers(UNI_V3, WETH, USDC, fee=500, spacing=10), CHAIN)
    assert not d.accepted and "CREATE2" in d.reason and WETH_USDC_500 in d.reason
    # right address, but it claims another fee tier: derivation differs, rejected too
    assert not classify(WETH_USDC_500, answers(UNI_V3, WETH, USDC, fee=3000, spacing=60), CHAIN).accepted


@pytest.mark.parametrize(
    ("probe", "reason"),
    [
        ({"factory": None}, "no factory"),
        ({"factory": w(int("0x" + "12" * 20, 16))}, "not an allowed factory"),
        ({"token0": None}, "token0()/token1()"),
        ({"fee": None}, "not a V3 pool"),
    ],
)
def test_incomplete_probes_rejected(probe: dict, reason: str) -> None:
    base = answers(UNI_V3, WETH, USDC, fee=500, spacing=10)
    base.update(probe)
    d = classify(WETH_USDC_500, base, CHAIN)
    assert not d.accepted and reason in d.reason


def test_unsorted_tokens_and_wrong_spacing_rejected() -> None:
    assert "not sorted" in classify(WETH_USDC_500, answers(UNI_V3, USDC, WETH, fee=500, spacing=10), CHAIN).reason
    assert "tick spacing" in classify(WETH_USDC_500, answers(UNI_V3, WETH, USDC, fee=500, spacing=60), CHAIN).reason


def test_v2_pair_and_creation_log() -> None:
    from mevbot.chain.create2 import v2_pair_address

    assert any(d.name == "uniswap_v2" for d in CHAIN.dexes), "the packaged chain config lists uniswap_v2"
    dex = CHAIN.dex("uniswap_v2")
    pair = v2_pair_address(dex.factory, WETH, USDC, dex.init_code_hash).lower()
    d = classify(pair, answers(dex.factory, WETH, USDC, reserves=True), CHAIN)
    assert d.accepted and d.info.kind is PoolKind.UNISWAP_V2
    assert not classify(pair, answers(dex.factory, WETH, USDC), CHAIN).accepted  # no getReserves
    assert from_creation(dex.factory, pair, WETH, USDC, 0, 0, CHAIN).accepted
    assert not from_creation(dex.factory, "0x" + "be" * 20, WETH, USDC, 0, 0, CHAIN).accepted
    assert from_creation(UNI_V3, WETH_USDC_500, WETH, USDC, 500, 10, CHAIN).accepted


def test_bitmap_helpers() -> None:
    words = bitmap_words(60)
    assert words.start == (-887272 // 60) >> 8 and words.stop - 1 == (887272 // 60) >> 8
    assert len(bitmap_words(1)) == 6932
    assert ticks_in_word(-1, (1 << 255) | 1, 60) == [-256 * 60, -1 * 60]
    assert ticks_in_word(2, 0b1010, 10) == [(512 + 1) * 10, (512 + 3) * 10]


def test_algebra_pool_of_camelot_v3() -> None:
    from mevbot.chain.create2 import algebra_pool_address

    dex = CHAIN.dex("camelot_v3")
    pool = algebra_pool_address(dex.create2_deployer, WETH, USDC, dex.init_code_hash).lower()
    probe = answers(dex.factory, WETH, USDC, spacing=60)
    probe["globalState"] = "0x" + format(2**96, "064x") + format(10, "064x") + format(450, "064x") + "00" * 32 * 4
    d = classify(pool, probe, CHAIN)
    assert d.accepted and d.info.kind is PoolKind.ALGEBRA and d.info.fee_pips == 450 and d.info.tick_spacing == 60
    assert not classify(pool, answers(dex.factory, WETH, USDC, spacing=60), CHAIN).accepted  # no globalState
