"""NATS, Redis and the four services for a devnet run, with the ``mevbot up`` machinery.

NATS/Redis: the ones answering at ``NATS_URL``/``REDIS_URL`` are reused (else started, like
``mevbot up``); every run gets its own ``MEV_NAMESPACE`` so its subjects, streams and Redis keys never
mix with another run's, and its streams are deleted at the end. The services are started by
:class:`mevbot.supervisor.Supervisor` as ``python -m services.<name>`` children with the devnet env.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

from mevbot import subjects
from mevbot.runtime.localstack import ManagedProcess, ensure_nats, ensure_redis
from mevbot.supervisor import SERVICES, Supervisor, child_env

REPO_ROOT = Path(__file__).resolve().parents[4]


@dataclass
class Servers:
    nats_url: str
    redis_url: str
    owned: list[ManagedProcess] = field(default_factory=list)

    def stop(self) -> None:
        for server in reversed(self.owned):
            server.stop()


def start_servers(nats_url: str, redis_url: str, log_dir: Path) -> Servers:
    log_dir.mkdir(parents=True, exist_ok=True)
    nats, nats_server = ensure_nats(nats_url, log_path=log_dir / "nats.log")
    redis, redis_server = ensure_redis(redis_url, log_path=log_dir / "redis.log")
    return Servers(nats, redis, [s for s in (nats_server, redis_server) if s is not None])


def start_services(env: dict[str, str], log_dir: Path, *, scale: dict[str, int] | None = None,
                   ready_timeout_s: float = 240.0) -> Supervisor:
    # (ingest is ready once its initial snapshots are read: a spacing-1 V3 pool is ~6,900 eth_calls,
    # ~1-2 min for the whole devnet market on a slow 2-core machine, as WARMUP_TIMEOUT_S in run.py)
    log_dir.mkdir(parents=True, exist_ok=True)
    full = child_env(**env)
    full["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + full.get("PYTHONPATH", "")
    for key in ("METRICS_PORT", "HTTP_PORT", "PROVIDER_CONFIG_PATH"):
        full.pop(key, None)
    supervisor = Supervisor.build(scale or dict.fromkeys(SERVICES, 1), full, log_dir=log_dir, restart=True,
                                  base_ports=_free_bases())
    supervisor.start_all()
    try:
        supervisor.wait_all_ready(ready_timeout_s)
    except (RuntimeError, TimeoutError) as exc:
        tails = []
        for child in supervisor.children:
            if child.log_path and child.log_path.exists():
                tails.append(f"--- {child.label} ---\n" + child.log_path.read_text(errors="replace")[-3000:])
        supervisor.stop_all()
        raise RuntimeError(f"{exc}\n" + "\n".join(tails)) from exc
    return supervisor


def _free_bases() -> dict[str, int]:
    # Supervisor falls back to a free port when the preferred one is busy; prefer a high range so a
    # devnet never collides with a `mevbot up` on the runbook ports
    return {name: 19_101 + i for i, name in enumerate(SERVICES)}


async def delete_namespace_streams(nats_url: str, namespace: str) -> None:
    import nats

    try:
        nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    except Exception:  # noqa: BLE001 - nothing to clean when the server is gone
        return
    js = nc.jetstream()
    for spec in subjects.STREAMS:
        try:
            await js.delete_stream(f"{namespace.upper().replace('-', '_')}_{spec.name}")
        except Exception:  # noqa: BLE001, S110 - never created
            pass
    await nc.close()


def cleanup_streams(nats_url: str, namespace: str) -> None:
    asyncio.run(delete_namespace_streams(nats_url, namespace))
