"""Classify what RPC endpoints answered to ``eth_sendRawTransaction`` (pure).

The transaction goes to every endpoint at once; the first acceptance wins. "already known" (the
node has it from another endpoint or a retry) counts as acceptance. When none accepted, the
answers decide what happens to the nonce: "nonce too low" / "too high" re-sync it from the chain;
other rejections free it; transport failures leave its fate unknown (re-sync too).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Answer(str, enum.Enum):
    ACCEPTED = "accepted"
    ALREADY_KNOWN = "already_known"
    NONCE_TOO_LOW = "nonce_too_low"
    NONCE_TOO_HIGH = "nonce_too_high"
    REJECTED = "rejected"  # the node refused it for another reason (fees, balance, replacement...)
    TRANSPORT = "transport"  # no answer: timeout, connection error, HTTP error


_ALREADY = ("already known", "known transaction", "already exists", "already imported", "alreadyknown")
_TOO_LOW = ("nonce too low", "nonce is too low", "oldnonce", "old nonce")
_TOO_HIGH = ("nonce too high", "nonce is too high", "nonce gap")


def classify_error(message: str) -> Answer:
    text = message.lower()
    if any(s in text for s in _ALREADY):
        return Answer.ALREADY_KNOWN
    if any(s in text for s in _TOO_LOW):
        return Answer.NONCE_TOO_LOW
    if any(s in text for s in _TOO_HIGH):
        return Answer.NONCE_TOO_HIGH
    return Answer.REJECTED


@dataclass(frozen=True)
class EndpointAnswer:
    endpoint: str  # provider name, never the URL (it may carry an API key)
    answer: Answer
    detail: str = ""


class Verdict(str, enum.Enum):
    SENT = "sent"
    NONCE_TOO_LOW = "nonce_too_low"
    NONCE_TOO_HIGH = "nonce_too_high"
    REJECTED = "rejected"  # every endpoint answered and refused: the nonce was not used
    UNCERTAIN = "uncertain"  # some endpoint gave no answer: the tx may be out there


def verdict(answers: list[EndpointAnswer]) -> Verdict:
    kinds = {a.answer for a in answers}
    if kinds & {Answer.ACCEPTED, Answer.ALREADY_KNOWN}:
        return Verdict.SENT
    if Answer.NONCE_TOO_LOW in kinds:
        return Verdict.NONCE_TOO_LOW
    if Answer.TRANSPORT in kinds or not answers:
        return Verdict.UNCERTAIN
    if Answer.NONCE_TOO_HIGH in kinds:
        return Verdict.NONCE_TOO_HIGH
    return Verdict.REJECTED
