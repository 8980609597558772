from services.executor.receipts import ARBITRAGE_TOPIC, TRANSFER_TOPIC, read_receipt, token_delta

TOKEN = "0x" + "11" * 20
OTHER = "0x" + "22" * 20
ME = "0x" + "ee" * 20
LENDER = "0x" + "aa" * 20
POOL = "0x" + "bb" * 20


def t(token, src, dst, amount):
    pad = lambda x: "0x" + "00" * 12 + x[2:]
    return {"address": token, "topics": [TRANSFER_TOPIC, pad(src), pad(dst)], "data": hex(amount)}


def test_token_delta_sums_in_and_out():
    logs = [
        t(TOKEN, LENDER, ME, 1000),  # loan in
        t(TOKEN, ME, POOL, 1000),  # hop 1 in
        t(OTHER, POOL, ME, 5),  # other token: ignored
        t(TOKEN, POOL, ME, 1013),  # last hop out
        t(TOKEN, ME, LENDER, 1001),  # repay with fee
    ]
    assert token_delta(logs, TOKEN, ME) == 12
    assert token_delta(logs, TOKEN.upper().replace("0X", "0x"), ME) == 12


def test_read_receipt_success_and_revert():
    logs = [t(TOKEN, LENDER, ME, 10), t(TOKEN, ME, LENDER, 7),
            {"address": ME, "topics": [ARBITRAGE_TOPIC, "0x" + "00" * 12 + TOKEN[2:]],
             "data": "0x" + (10).to_bytes(32, "big").hex() + (3).to_bytes(32, "big").hex()}]  # fmt: skip
    r = read_receipt({"status": "0x1", "blockNumber": "0x10", "gasUsed": "0x5208", "effectiveGasPrice": "0x2", "logs": logs},
                     loan_token=TOKEN, contract=ME)  # fmt: skip
    assert r.success and r.realized_profit == 3 and r.event_profit == 3 and r.gas_cost_wei == 21000 * 2
    r = read_receipt({"status": "0x0", "blockNumber": "0x10", "gasUsed": "0x5208", "effectiveGasPrice": "0x2", "logs": []},
                     loan_token=TOKEN, contract=ME)  # fmt: skip
    assert not r.success and r.realized_profit is None
