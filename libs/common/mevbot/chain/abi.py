"""ABI helpers over eth-abi: encode constructor/function calls by name, decode outputs and custom
errors. Small on purpose: the deployer and tests need only this, without a web3 Contract object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils.abi import collapse_if_tuple
from eth_utils.crypto import keccak

from mevbot.errors import ContractError

_PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]
_ERROR_SELECTOR = keccak(text="Error(string)")[:4]


def _types(params: Sequence[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(dict(p)) for p in params]


def signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(_types(item.get('inputs', [])))})"


def selector(sig: str) -> bytes:
    return keccak(text=sig)[:4]


@dataclass(frozen=True)
class DecodedError:
    name: str
    args: tuple[Any, ...]

    def __str__(self) -> str:
        return f"{self.name}{self.args}"


@dataclass
class ContractAbi:
    abi: list[dict[str, Any]]
    _functions: dict[str, list[dict[str, Any]]] = field(default_factory=dict, init=False)
    _errors: dict[bytes, dict[str, Any]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for item in self.abi:
            if item.get("type") == "function":
                self._functions.setdefault(item["name"], []).append(item)
            elif item.get("type") == "error":
                self._errors[selector(signature(item))] = item

    def _function(self, name: str, n_args: int) -> dict[str, Any]:
        matches = [f for f in self._functions.get(name, []) if len(f.get("inputs", [])) == n_args]
        if len(matches) != 1:
            raise ContractError(f"no unique function {name} with {n_args} arguments")
        return matches[0]

    def selectors(self) -> dict[str, bytes]:
        return {signature(f): selector(signature(f)) for fs in self._functions.values() for f in fs}

    def encode_call(self, name: str, *args: Any) -> bytes:
        fn = self._function(name, len(args))
        return selector(signature(fn)) + abi_encode(_types(fn["inputs"]), list(args))

    def decode_output(self, name: str, data: bytes, n_args: int | None = None) -> tuple[Any, ...]:
        fns = self._functions.get(name, [])
        fn = fns[0] if n_args is None and len(fns) == 1 else self._function(name, n_args or 0)
        return tuple(abi_decode(_types(fn.get("outputs", [])), data))

    def encode_constructor(self, *args: Any) -> bytes:
        ctor = next((i for i in self.abi if i.get("type") == "constructor"), None)
        if ctor is None:
            if args:
                raise ContractError("contract has no constructor arguments")
            return b""
        return abi_encode(_types(ctor["inputs"]), list(args))

    def decode_error(self, data: bytes) -> DecodedError | None:
        """Decode revert data: a custom error of this ABI, ``Error(string)`` or ``Panic(uint256)``."""
        if len(data) < 4:
            return None
        sel, body = data[:4], data[4:]
        if sel == _ERROR_SELECTOR:
            return DecodedError("Error", tuple(abi_decode(["string"], body)))
        if sel == _PANIC_SELECTOR:
            return DecodedError("Panic", tuple(abi_decode(["uint256"], body)))
        item = self._errors.get(sel)
        if item is None:
            return None
        return DecodedError(item["name"], tuple(abi_decode(_types(item["inputs"]), body)))
