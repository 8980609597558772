"""Own nonce bookkeeping for one signing key (pure).

On Arbitrum ``eth_getTransactionCount(addr, "pending")`` equals ``"latest"`` (the sequencer has no
public mempool) and a nonce above the next one fails within seconds, so the executor counts its
own nonces. Rules:

* The first reservation, and the first after :meth:`invalidate` (restart, ``nonce too low/high``,
  a send whose fate is unknown), needs :meth:`sync` from the chain (and the fenced floor the last
  holder of the key recorded, see :mod:`services.executor.lease`).
* A reserved nonce is either :meth:`commit`-ted (handed to an RPC) or :meth:`release`-d (never
  sent). The newest release is re-used by the next reservation; an older one (another nonce was
  committed after it) is a *gap*, listed by :meth:`gaps` until a filler transaction takes it.
"""

from __future__ import annotations

from mevbot.errors import ExecutionError


class NonceManager:
    def __init__(self) -> None:
        self._next: int | None = None
        self._reserved: set[int] = set()
        self._gaps: set[int] = set()

    @property
    def needs_sync(self) -> bool:
        return self._next is None

    @property
    def next_nonce(self) -> int | None:
        return self._next

    @property
    def reserved(self) -> frozenset[int]:
        return frozenset(self._reserved)

    def sync(self, chain_nonce: int, floor: int | None = None) -> int:
        """Set the next nonce from the chain's count, never below ``floor`` (in-flight txs)."""
        if chain_nonce < 0:
            raise ExecutionError(f"negative chain nonce {chain_nonce}")
        if self._reserved:
            raise ExecutionError(f"cannot re-sync with nonces {sorted(self._reserved)} reserved")
        self._next = max(chain_nonce, floor or 0)
        self._gaps = {g for g in self._gaps if g >= chain_nonce and g < self._next}
        return self._next

    def invalidate(self) -> None:
        """Forget the local count: the next reservation re-syncs from the chain."""
        self._next = None

    def reserve(self) -> int:
        if self._next is None:
            raise ExecutionError("nonce not synced")
        if self._gaps:  # fill a hole first: a later nonce cannot be mined before it
            nonce = min(self._gaps)
            self._gaps.discard(nonce)
        else:
            nonce = self._next
            self._next += 1
        self._reserved.add(nonce)
        return nonce

    def commit(self, nonce: int) -> None:
        """``nonce`` was handed to an RPC endpoint: it is spent."""
        self._take(nonce)

    def release(self, nonce: int) -> None:
        """``nonce`` was reserved but never sent: re-use it (newest) or record a gap (older)."""
        self._take(nonce)
        if self._next is None:
            return  # invalidated meanwhile: the chain count decides
        if nonce == self._next - 1:
            self._next = nonce
            while self._next - 1 in self._gaps:  # collapse trailing gaps too
                self._next -= 1
                self._gaps.discard(self._next)
        else:
            self._gaps.add(nonce)

    def gaps(self) -> list[int]:
        return sorted(self._gaps)

    def _take(self, nonce: int) -> None:
        if nonce not in self._reserved:
            raise ExecutionError(f"nonce {nonce} was not reserved")
        self._reserved.discard(nonce)
