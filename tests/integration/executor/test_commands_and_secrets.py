"""``mevbot keys`` and ``mevbot deploy-executor`` through the real console script, then the
executor trading on the contract it deployed; and the key never appearing anywhere: logs (debug
level), /metrics, /control, published results, dead letters, error messages and CLI output."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import Mode
from mevbot.config import Secret
from mevbot.errors import KeystoreError
from mevbot.keystore import load_signer
from msgspec.structs import replace

from tests.fixtures.servers import service_env
from tests.integration.contracts.chainkit import balance_of
from tests.integration.executor.conftest import executor_env, running_executor
from tests.integration.executor.kit import E18, PASSWORD, build_plan, dislocate, wait_for

pytestmark = pytest.mark.integration
MEVBOT = [sys.executable, "-c", "from mevbot.cli import main; main()"]


def _cli(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEVBOT, *args], check=False, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def _variants(key_hex: str) -> list[str]:
    """The private key in every shape a leak could take (compared lower-cased)."""
    raw = bytes.fromhex(key_hex)
    shapes = [key_hex, "0x" + key_hex, str(int(key_hex, 16)), base64.b64encode(raw).decode(), repr(raw)]
    # any 16-hex-digit window of the key: catches truncated or split renderings too
    shapes += [key_hex[i : i + 16] for i in range(len(key_hex) - 15)]
    return [s.lower() for s in shapes]


def _assert_clean(text: str, key_hex: str, where: str) -> None:
    low = text.lower()
    for v in _variants(key_hex):
        assert v not in low, f"key material ({v[:6]}...) found in {where}"
    assert PASSWORD.lower() not in low, f"keystore password found in {where}"


async def test_keys_cli_deploy_executor_and_trade_on_the_new_contract(
    xchain, tmp_path, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    keystore, record = tmp_path / "ks", tmp_path / "executor_contract.json"
    owner_key = os.urandom(32).hex()
    env = {**os.environ, "MEV_BOT_ENCRYPTION_KEY": PASSWORD, "MEV_BOT_KEYSTORE_DIR": str(keystore),
           "ARBITRUM_RPC_ENDPOINT": xchain.node.http_url, "EXECUTOR_CONTRACT_FILE": str(record)}  # fmt: skip

    imported = _cli(["keys", "import", "--scrypt-n", "1024"], env, stdin=owner_key + "\n")
    assert imported.returncode == 0, imported.stderr
    owner = imported.stdout.split()[0]
    created = _cli(["keys", "new", "--scrypt-n", "1024"], env)
    assert created.returncode == 0, created.stderr
    trader = created.stdout.split()[0]
    listed = _cli(["keys", "list"], env)
    assert {line.split()[0] for line in listed.stdout.splitlines()} == {owner, trader}
    for out in (imported, created, listed):
        _assert_clean(out.stdout + out.stderr, owner_key, "keys CLI output")
    for f in keystore.glob("*.json"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    bad = _cli(["keys", "new"], {**env, "MEV_BOT_ENCRYPTION_KEY": "short"})
    assert bad.returncode != 0 and "MEV_BOT_ENCRYPTION_KEY" in bad.stderr

    for addr in (owner, trader):
        rpc.call("anvil_setBalance", addr, hex(100 * E18))
    deployed = _cli(["deploy-executor", "--key", owner, "--allow", trader], env)
    assert deployed.returncode == 0, deployed.stderr
    rec = json.loads(record.read_text())
    assert rec["owner"] == owner and rec["allowed"] == [trader] and rec["chain_id"] == dep.chain_id
    contract = rec["address"]
    _assert_clean(deployed.stdout + deployed.stderr, owner_key, "deploy-executor output")

    # the service reads the record (no EXECUTOR_CONTRACT_ADDRESS) and trades with the allowed key
    dislocate(rpc, dep)
    plan = build_plan(rpc, dep, trader, contract=contract)
    svc_env = executor_env(xchain, keystore, nats_url, redis_url, namespace, EXECUTOR_KEYS=trader,
                           EXECUTOR_CONTRACT_FILE=str(record))  # fmt: skip
    svc_env.pop("EXECUTOR_CONTRACT_ADDRESS")
    before = balance_of(rpc, dep.weth, contract)
    async with running_executor(svc_env) as ex:
        assert ex.service.engine.config.contract == contract
        await client.send(plan)
        result = await client.final(plan.plan_id)
    assert result.status is m.ExecutionStatus.INCLUDED and result.sender == trader
    assert result.realized_profit == plan.expected_profit == balance_of(rpc, dep.weth, contract) - before


async def test_the_key_never_appears_in_logs_metrics_results_or_errors(
    xchain, tmp_path, client, nats_url, redis_url, namespace, service_runner
):
    rpc, dep = xchain.rpc, xchain.dep
    from mevbot.keystore import write_keystore

    from tests.integration.contracts.chainkit import EXECUTOR, OWNER, send

    key_hex = os.urandom(32).hex()
    keystore = tmp_path / "ks"
    entry = write_keystore(keystore, Secret(PASSWORD), key_hex, scrypt_n=1024)
    rpc.call("anvil_setBalance", entry.address, hex(100 * E18))
    assert (
        send(rpc, OWNER, dep.executor, EXECUTOR.encode_call("setAllowed", entry.address, True))["status"]
        == "0x1"
    )

    dead: list[m.DeadLetter] = []

    async def on_dead(letter: m.DeadLetter) -> None:
        dead.append(letter)

    await client.bus.subscribe(
        subjects.dlq_subject("executor"), on_dead, mode=Mode.CORE, message_type=m.DeadLetter
    )
    env = service_env(nats_url, redis_url, namespace, **executor_env(
        xchain, keystore, nats_url, redis_url, namespace, LOG_LEVEL="debug", EXECUTOR_GAS_SOURCE="estimate"))  # fmt: skip
    env.pop("HTTP_PORT")
    child = service_runner("services.executor", env, name="executor-leak")
    base = child.base_url

    dislocate(rpc, dep)
    good = build_plan(rpc, dep, entry.address)
    greedy = replace(good, plan_id="greedy", candidate_id="greedy", min_profit=good.expected_profit + 1,
                     expected_profit=good.expected_profit + 1)  # fmt: skip
    late = replace(good, plan_id="late", candidate_id="late", deadline_block=0)
    for p in (greedy, good, late):
        await client.send(p)
    await client.bus.nc.publish(client.bus.wire(subjects.PLANS), b'{"type":"execution_plan","chain_id":"x"}')
    await client.bus.nc.flush()
    assert (await client.final(good.plan_id)).status is m.ExecutionStatus.INCLUDED
    assert (await client.final(greedy.plan_id)).reason == "simulation_revert"
    assert (await client.final(late.plan_id)).reason == "deadline_passed"
    await wait_for(lambda: dead, 10)
    async with httpx.AsyncClient() as http:
        await http.post(f"{base}/control/pause")
        texts = {
            "/metrics": (await http.get(f"{base}/metrics")).text,
            "/control": (await http.get(f"{base}/control")).text,
        }
        await http.post(f"{base}/control/resume")
    assert (
        "mev_executions_total" in texts["/metrics"]
        and "mev_executor_gas_spent_wei_total" in texts["/metrics"]
    )
    assert entry.address in texts["/control"]
    child.stop()

    # a second process with the wrong password must fail to start, saying so without the key
    wrong = service_runner("services.executor", {**env, "MEV_BOT_ENCRYPTION_KEY": "w" * 40}, name="executor-wrong",
                           wait=None)  # fmt: skip
    await asyncio.to_thread(wrong.proc.wait, 30)
    assert wrong.proc.returncode != 0

    with pytest.raises(KeystoreError) as wrong_pw:
        load_signer(entry.path, Secret("w" * 40))
    signer = load_signer(entry.path, Secret(PASSWORD))

    texts["executor log"] = Path(child.log_path).read_text()
    texts["failed start log"] = Path(wrong.log_path).read_text()
    texts["results"] = "\n".join(m.encode(r).decode() for r in client.results)
    texts["dead letters"] = "\n".join(m.encode(d).decode() for d in dead)
    texts["errors"] = f"{wrong_pw.value!s} {wrong_pw.value!r} {signer!r} {signer!s}"
    assert "debug" in texts["executor log"] or '"level"' in texts["executor log"]
    assert "cannot decrypt" in texts["failed start log"]
    assert entry.address in texts["executor log"]  # the address is logged, and only the address
    for where, text in texts.items():
        _assert_clean(text, key_hex, where)
