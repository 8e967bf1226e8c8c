"""Transactions: built, signed locally with eth-account, sent and waited for.

Chain id, nonce (pending), fees (EIP-1559 where the chain has a base fee, else a legacy
gas price) and gas (the estimate plus a margin) are filled in. The estimate simulates
the call first: a refusal is decoded into its rule's exception before anything is sent.
A transaction that still reverts once mined is replayed to decode its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError

from journeychain.chain import Chain
from journeychain.errors import ChainError, JourneyError, TransactionError
from journeychain.reverts import GANACHE_REVERT, Context, Decoder, mined_transaction, revert_data

GAS_MARGIN = 1.25
GAS_EXTRA = 20_000
DEFAULT_PRIORITY_FEE = 10**9  # 1 gwei
RECEIPT_TIMEOUT = 180


@dataclass
class Receipt:
    """A mined transaction: its hash, block, gas used and its events (decoded by the client)."""

    tx_hash: str
    block: int
    gas_used: int
    raw: Any = field(repr=False, default=None)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"tx": self.tx_hash, "block": self.block, "gas_used": self.gas_used}


class Sender:
    """Signs and sends the transactions of one account on one chain."""

    def __init__(self, chain: Chain, account: LocalAccount, decoder: Decoder, context: Context | None = None):
        self.chain = chain
        self.account = account
        self.decoder = decoder
        self.context = context or Context()

    def refusal(self, exc: BaseException) -> JourneyError | None:
        """The rule's exception for a failed call or estimate, if the chain said why."""
        data = revert_data(exc)
        if data:
            return self.decoder.decode(data, self.context)
        if isinstance(exc, ContractLogicError):
            message = str(exc.message if hasattr(exc, "message") else exc)
            return self.decoder.decode(b"", self.context) if not message else _plain(message)
        return None

    def _fees(self) -> dict[str, int]:
        w3 = self.chain.w3
        base = w3.eth.get_block("latest").get("baseFeePerGas")
        if base is None:
            return {"gasPrice": int(w3.eth.gas_price)}
        try:
            tip = int(w3.eth.max_priority_fee)
        except Exception:  # a node without eth_maxPriorityFeePerGas
            tip = DEFAULT_PRIORITY_FEE
        tip = max(tip, 1)
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * int(base) + tip}

    def send(self, call: Any, *, value: int = 0, gas: int | None = None) -> Receipt:
        """Sends a contract call (`contract.functions.x(...)`) or a deployment constructor."""
        try:
            return self._send(call, value, gas)
        except (RequestsConnectionError, Timeout) as exc:
            raise ChainError(f"lost the chain at {self.chain.url}: {type(exc).__name__}") from None

    def simulate(self, call: Any) -> Any:
        """Runs a contract call as this account with eth_call, sending nothing; a refusal raises
        its rule's exception, as `send` would."""
        self.context.action = getattr(call, "fn_name", "")
        try:
            return call.call({"from": self.account.address})
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            refusal = self.refusal(exc)
            if refusal is not None:
                raise refusal from None
            raise TransactionError(f"the chain refused to simulate the transaction: {_short(exc)}") from None
        except (RequestsConnectionError, Timeout) as exc:
            raise ChainError(f"lost the chain at {self.chain.url}: {type(exc).__name__}") from None

    def _send(self, call: Any, value: int, gas: int | None) -> Receipt:
        w3 = self.chain.w3
        sender = self.account.address
        self.context.action = getattr(call, "fn_name", "")
        params: dict[str, Any] = {"from": sender, "value": value, "chainId": self.chain.chain_id}
        if gas is None:
            try:
                estimate = call.estimate_gas(params)
            except (ContractCustomError, ContractLogicError, Web3RPCError, ValueError) as exc:
                refusal = self.refusal(exc)
                if refusal is not None:
                    raise refusal from None
                raise TransactionError(
                    f"the chain refused to estimate the transaction: {_short(exc)}"
                ) from None
            limit = int(w3.eth.get_block("latest")["gasLimit"])
            gas = min(int(estimate * GAS_MARGIN) + GAS_EXTRA, limit)
        params |= self._fees()
        params["gas"] = gas
        params["nonce"] = w3.eth.get_transaction_count(sender, "pending")
        tx = call.build_transaction(params)
        signed = self.account.sign_transaction(tx)
        try:
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        except Web3RPCError as exc:
            # ganache (vmErrorsOnRPCResponse) mines the transaction as it takes it, and answers a
            # revert as an error naming the mined transaction: its receipt is read as any other's
            mined = mined_transaction(exc)
            if mined is None:
                raise TransactionError(f"the chain refused the transaction: {_short(exc)}") from None
            tx_hash = HexBytes(mined)
        try:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
        except TimeExhausted:
            raise ChainError(
                f"transaction {HexBytes(tx_hash).to_0x_hex()} was not mined within {RECEIPT_TIMEOUT} s"
            ) from None
        if receipt["status"] != 1:
            raise self._mined_revert(call, params, receipt)
        return Receipt(
            HexBytes(tx_hash).to_0x_hex(), int(receipt["blockNumber"]), int(receipt["gasUsed"]), receipt
        )

    def _mined_revert(self, call: Any, params: dict[str, Any], receipt: Any) -> JourneyError:
        replay = {k: v for k, v in params.items() if k in ("from", "value")}
        try:
            call.call(replay, block_identifier=receipt["blockNumber"] - 1)
        except Exception as exc:  # the replay's refusal is the reason
            refusal = self.refusal(exc)
            if refusal is not None:
                return refusal
        tx = HexBytes(receipt["transactionHash"]).to_0x_hex()
        if receipt["gasUsed"] >= params.get("gas", 0):
            return TransactionError(f"transaction {tx} ran out of gas")
        return TransactionError(f"transaction {tx} reverted without a reason")


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
