import pytest
from mevbot.errors import SafetyError

from services.executor.fees import FeePolicy, fee_bid, gas_limit_with_margin, priority_fee_per_gas


def test_gas_limit_margin_rounds_up():
    assert gas_limit_with_margin(100_001, 2_000) == 120_002  # 120001.2 -> up
    assert gas_limit_with_margin(100_000, 0) == 100_000
    with pytest.raises(SafetyError):
        gas_limit_with_margin(0, 2_000)


def test_priority_is_share_of_profit_and_capped():
    policy = FeePolicy(priority_share_bps=1_000, max_priority_fee_wei=10**9)
    # 10 % of 1e15 wei over 200k gas = 5e8 wei/gas
    assert priority_fee_per_gas(10**15, 200_000, policy) == 500_000_000
    assert priority_fee_per_gas(10**18, 200_000, policy) == 10**9  # capped
    assert priority_fee_per_gas(-5, 200_000, policy) == 0


def test_fee_bid_fields_and_profit_guard():
    policy = FeePolicy(priority_share_bps=1_000, max_priority_fee_wei=10**9, base_fee_multiplier=2)
    fees = fee_bid(base_fee_wei=10**7, expected_net_profit_wei=10**15, expected_gross_profit_wei=2 * 10**15,
                   expected_gas_units=200_000, gas_limit=240_000, policy=policy)  # fmt: skip
    assert fees.max_priority_fee_per_gas_wei == 500_000_000
    assert fees.max_fee_per_gas_wei == 2 * 10**7 + 500_000_000
    assert fees.gas_limit == 240_000
    with pytest.raises(SafetyError):  # the gas bill would eat the gross profit
        fee_bid(
            base_fee_wei=10**10,
            expected_net_profit_wei=10**15,
            expected_gross_profit_wei=10**15,
            expected_gas_units=200_000,
            gas_limit=240_000,
            policy=FeePolicy(max_fee_per_gas_cap_wei=10**12),
        )


def test_fee_cap_is_enforced():
    policy = FeePolicy(max_fee_per_gas_cap_wei=10**9, max_priority_fee_wei=10**8)
    fees = fee_bid(base_fee_wei=6 * 10**8, expected_net_profit_wei=10**18, expected_gross_profit_wei=10**18,
                   expected_gas_units=100_000, gas_limit=120_000, policy=policy)  # fmt: skip
    assert fees.max_fee_per_gas_wei == 10**9  # 2*base+prio clipped to the cap, still >= base+prio
    with pytest.raises(SafetyError):
        fee_bid(
            base_fee_wei=10**9,
            expected_net_profit_wei=10**18,
            expected_gross_profit_wei=10**18,
            expected_gas_units=100_000,
            gas_limit=120_000,
            policy=policy,
        )
