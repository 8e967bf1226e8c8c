"""Transactions: what a mined one looks like (Receipt) and the node's refusals in one sentence.
The sender that builds, signs, sends and waits is journeychain.sender (`Sender` is importable
from here as well).

Chain id, nonce (pending), fees (EIP-1559 where the chain has a base fee, else a legacy
gas price) and gas (the estimate plus a margin) are filled in. The estimate simulates
the call first: a refusal is decoded into its rule's exception before anything is sent.
A transaction that still reverts once mined is replayed to decode its reason. A signed
transaction the node will not take (too little ether for its gas, a nonce used already or out
of turn, fees that do not outbid a pending transaction or reach the base fee) is refused with
one sentence naming the account and the figures (`node_refusal`, a NodeRefusalError).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from journeychain.amounts import ether, gwei
from journeychain.errors import (
    FeeError,
    InsufficientFundsError,
    JourneyError,
    NodeRefusalError,
    NonceError,
)
from journeychain.reverts import GANACHE_REVERT


@dataclass
class Receipt:
    """A mined transaction: its hash, block, gas used and its events (decoded by the client)."""

    tx_hash: str
    block: int
    gas_used: int
    raw: Any = field(repr=False, default=None)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: mined before this call: a retry found the transaction in the journal (its reply was lost)
    already: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"tx": self.tx_hash, "block": self.block, "gas_used": self.gas_used}


def _short(exc: BaseException) -> str:
    """The node's own words for a failure, without the JSON around them."""
    first = exc.args[0] if exc.args else None
    if isinstance(first, dict) and first.get("message"):
        return str(first["message"])[:200]
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message[:200]
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _plain(message: str) -> JourneyError:
    from journeychain.errors import RuleError

    message = message.removeprefix("execution reverted: ").removeprefix("execution reverted")
    message = message.strip().removeprefix(GANACHE_REVERT)  # ganache: the reason, if any, follows
    return RuleError(f"refused: {message.strip() or 'no reason given'}")


# --- the node's refusals: a signed transaction it will not take -------------------------------

#: What nodes say, in lower case, by the refusal it is (the first that matches): anvil (code
#: -32003, no figures), geth and erigon (-32000, figures after a colon), ganache 7 (-32003 and
#: -32000), ganache 6, besu and nethermind.
_REFUSALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "funds",
        (
            "insufficient funds",
            "doesn't have enough funds",
            "upfront cost exceeds account balance",
            "insufficientfunds",
        ),
    ),
    ("replacement", ("replacement transaction underpriced", "replacement fee too low")),
    ("nonce_low", ("nonce too low", "oldnonce", "nonce has already been used")),
    ("nonce_high", ("nonce too high", "nonce too far in future")),
    (
        "base_fee",
        ("less than block base fee", "fee cap less than", "max fee per gas too low", "feecaptoolow"),
    ),
    ("underpriced", ("transaction underpriced", "gas price too low", "below configured minimum gas price")),
)
#: ganache's words for a nonce out of turn, either way
_GANACHE_NONCE = re.compile(r"account has nonce of:? (\d+) tx has nonce of:? (\d+)")
#: The figures a node's words may carry, by name: geth's state transition ("have 0 want 100",
#: "tx: 3 state: 5", "maxFeePerGas: 1, baseFee: 7"), geth's pool ("balance 0, tx cost 100",
#: "next nonce 5, tx nonce 3"), ganache 6 ("the upfront cost is: 100 and the sender's account only
#: has: 0"), ganache's nonces.
_FIGURES = {
    "balance": (r"\bhave (\d+)", r"\bbalance:? (\d+)", r"account only has:? (\d+)"),
    "cost": (r"\bwant (\d+)", r"tx cost:? (\d+)", r"upfront cost is:? (\d+)"),
    "nonce": (r"\btx:? (\d+)", r"tx nonce:? (\d+)", r"tx has nonce of:? (\d+)"),
    "next_nonce": (r"\bstate:? (\d+)", r"next nonce:? (\d+)", r"account has nonce of:? (\d+)"),
    "max_fee": (r"maxfeepergas:? (\d+)", r"gasfeecap:? (\d+)"),
    "base_fee": (r"basefee:? (\d+)",),
}


def node_words(error: Any) -> tuple[int | None, str]:
    """The JSON-RPC error's code and its words (message, and data when it is text), whatever
    carries it: web3's Web3RPCError (its `rpc_response`), a ValueError holding the error object
    (older web3), a whole response, the error object or the message alone."""
    if isinstance(error, BaseException):
        response = getattr(error, "rpc_response", None)
        if isinstance(response, dict):
            return node_words(response)
        return node_words(error.args[0]) if error.args else (None, type(error).__name__)
    if isinstance(error, dict):
        if isinstance(error.get("error"), dict):
            return node_words(error["error"])
        code = error.get("code")
        words = str(error.get("message") or "")
        if isinstance(error.get("data"), str) and not error["data"].startswith("0x"):
            words += f" ({error['data']})"
        return (code if isinstance(code, int) else None), words
    return None, str(error or "")


def node_refusal(
    error: Any, account: str, tx: Mapping[str, Any] | None = None, w3: Any = None
) -> NodeRefusalError | None:
    """The sentence for a transaction the node refused to take, from the node's error in any of its
    shapes, or None when the node said something else. The figures come from the node's words
    where they carry them, else from the transaction `tx` (gas, fees, value, nonce) and, with
    `w3`, from a look-up (the account's balance and next nonce, the latest base fee)."""
    _code, words = node_words(error)
    said = words.lower()
    kind = next((kind for kind, needles in _REFUSALS if any(n in said for n in needles)), None)
    ganache = _GANACHE_NONCE.search(said)
    if ganache:
        kind = "nonce_low" if int(ganache[2]) < int(ganache[1]) else "nonce_high"
    if kind is None:
        return None
    figures = {name: int(m[1]) for name, patterns in _FIGURES.items() if (m := _first(patterns, said))}
    return _SENTENCES[kind](account, dict(tx or {}), figures, w3)


def _first(patterns: tuple[str, ...], text: str) -> re.Match[str] | None:
    return next((m for p in patterns if (m := re.search(p, text))), None)


def _ask(w3: Any, lookup: Callable[[Any], Any]) -> int | None:
    """A figure looked up on the node, or None (no node, or no answer)."""
    if w3 is None:
        return None
    try:
        return int(lookup(w3))
    except Exception:  # the look-up is for the sentence only: without it, the sentence says less
        return None


def _fee(tx: Mapping[str, Any]) -> int | None:
    fee = tx.get("maxFeePerGas") or tx.get("gasPrice")
    return int(fee) if fee is not None else None


def _funds(account: str, tx: dict[str, Any], f: dict[str, int], w3: Any) -> NodeRefusalError:
    balance = f.get("balance")
    if balance is None:
        balance = _ask(w3, lambda w: w.eth.get_balance(account))
    need, gas, fee = f.get("cost"), tx.get("gas"), _fee(tx)
    if need is None and gas and fee is not None:
        need = int(gas) * fee + int(tx.get("value") or 0)
    figures = {k: v for k, v in (("balance", balance), ("needed", need)) if v is not None}
    if balance is not None and need:
        how = (
            f" ({int(gas):,} gas at up to {gwei(fee)})" if gas and fee is not None and "cost" not in f else ""
        )
        what = f"{account} holds {ether(balance)}, and the transaction needs up to {ether(need)}{how}"
    elif balance is not None:
        what = f"{account} holds {ether(balance)}, too little for the transaction's gas"
    else:
        what = f"{account} holds too little ether for the transaction's gas"
    return InsufficientFundsError(
        f"the node refused the transaction: {what}: send the account ether first", account, figures
    )


def _nonces(account: str, tx: dict[str, Any], f: dict[str, int], w3: Any) -> tuple[str, int | None]:
    nonce = f.get("nonce", tx.get("nonce"))
    following = f.get("next_nonce")
    if following is None:
        following = _ask(w3, lambda w: w.eth.get_transaction_count(account, "pending"))
    return ("a nonce" if nonce is None else f"nonce {int(nonce)}"), following


def _nonce_low(account: str, tx: dict[str, Any], f: dict[str, int], w3: Any) -> NodeRefusalError:
    nonce, following = _nonces(account, tx, f, w3)
    its = f" (its next nonce is {following})" if following is not None else ""
    return NonceError(
        f"the node refused the transaction: {nonce} of {account} is used already{its}: another "
        "transaction of this account went first; send it again",
        account,
        _known(nonce=f.get("nonce", tx.get("nonce")), next_nonce=following),
    )


def _nonce_high(account: str, tx: dict[str, Any], f: dict[str, int], w3: Any) -> NodeRefusalError:
    nonce, following = _nonces(account, tx, f, w3)
    ahead = f"ahead of its next nonce {following}" if following is not None else "ahead of its next nonce"
    return NonceError(
        f"the node refused the transaction: {nonce} of {account} is {ahead}: send the transactions "
        "before it first, or send it again with the next nonce",
        account,
        _known(nonce=f.get("nonce", tx.get("nonce")), next_nonce=following),
    )


def _replacement(account: str, tx: dict[str, Any], f: dict[str, int], w3: Any) -> NodeRefusalError:
    nonce, fee = tx.get("nonce"), _fee(tx)
    which = f" with nonce {nonce}" if nonce is not None else " with the same nonce"
    offer = f" at up to {gwei(fee)} per gas" if fee is not None else ""
    return FeeError(
        f"the node refused the transaction: {account} has a pending transaction{which}, and this "
        f"one{offer} does not outbid it: raise its fees (most nodes ask 10% more) or wait until the "
        "pending one is mined",
        account,
        _known(nonce=nonce, max_fee=fee),
    )


def _base_fee(account: str, tx: dict[str, Any], f: dict[str, int], w3: Any) -> NodeRefusalError:
    fee = f.get("max_fee", _fee(tx))
    base = f.get("base_fee")
    if base is None:
        base = _ask(w3, lambda w: w.eth.get_block("latest")["baseFeePerGas"])
    offer = f" of {gwei(fee)}" if fee is not None else ""
    floor = f" of {gwei(base)}" if base is not None else ""
    return FeeError(
        f"the node refused the transaction of {account}: its max fee per gas{offer} is below the "
        f"block's base fee{floor}: send it again with a higher max fee",
        account,
        _known(max_fee=fee, base_fee=base),
    )


def _underpriced(account: str, tx: dict[str, Any], f: dict[str, int], w3: Any) -> NodeRefusalError:
    fee = _fee(tx)
    offer = f" of {gwei(fee)}" if fee is not None else ""
    return FeeError(
        f"the node refused the transaction of {account}: its gas price{offer} is below the node's "
        "minimum: send it again with a higher fee",
        account,
        _known(max_fee=fee),
    )


def _known(**figures: Any) -> dict[str, int]:
    return {k: int(v) for k, v in figures.items() if v is not None}


_SENTENCES: dict[str, Callable[[str, dict[str, Any], dict[str, int], Any], NodeRefusalError]] = {
    "funds": _funds,
    "replacement": _replacement,
    "nonce_low": _nonce_low,
    "nonce_high": _nonce_high,
    "base_fee": _base_fee,
    "underpriced": _underpriced,
}


def __getattr__(name: str) -> Any:
    """`from journeychain.tx import Sender`, as before the sender had a module of its own."""
    if name == "Sender":
        from journeychain.sender import Sender

        return Sender
    raise AttributeError(name)
