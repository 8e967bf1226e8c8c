"""The sender: how every transaction of the SDK reaches the chain (the public API for any caller
that sends, the service included).

    sender = Sender(chain, account, decoder)        # client._sender() gives the client's own
    receipt = sender.send(call)                     # sign, send, wait: one transaction
    pending = sender.submit(call)                   # sign and send, do not wait: a PendingTx
    receipt = pending.wait()
    receipts = sender.send_many([call_a, call_b])   # all sent, then awaited together
    with sender.holding():                          # no other sender of the account in between
        sender.send(approve); sender.send(fund)

A call is `contract.functions.name(...)` or a constructor. Before anything is sent the call is
estimated, and a refusal is decoded into its rule's exception (journeychain.errors); a signed
transaction the node will not take is refused with one sentence (`tx.node_refusal`).

- **Caches.** The chain id (Chain), the block gas limit, the block time and the fee data are
  read once per chain and kept on `chain.cache`; fees are read again after FEE_TTL seconds, or
  when the node says they no longer reach the base fee.
- **Nonces.** The nonce is taken under the account's lock: a thread lock inside the process and
  an fcntl lock on `$JOURNEY_HOME/nonces/<chain>-<account>.lock` across processes, held while
  the transaction is signed and handed to the node, so two scripts sharing an account never
  sign the same nonce. The account's next nonce is asked of the node once per hold (a pending
  count, so it counts the transactions in flight, and a chain reset or snapshot revert never
  leaves a stale number) and counted locally for every further transaction of the hold:
  `send_many` and `holding()` ask once for all of theirs.
- **Journal.** Each signed transaction is written to the journal (journeychain.journal) before
  it is sent, with its intent (function, journey, step); `recall(intent)` finds a write whose
  reply was lost, so that a retry answers with the mined transaction instead of acting again.
- **Waiting.** Receipts are polled at a quarter of the chain's block time (between
  POLL_MIN and POLL_MAX seconds; the first poll at once, which an automining node answers); a
  transaction not mined after `stuck_after` seconds is signed again with the same nonce and
  fees raised by a quarter, and whichever is mined is the answer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TransactionNotFound,
    Web3RPCError,
)

from journeychain.chain import Chain, journey_home, private_dir
from journeychain.errors import ChainError, FeeError, JourneyError, NonceError, TransactionError
from journeychain.journal import Entry, Intent, Journal, journal
from journeychain.reverts import Context, Decoder, mined_transaction, revert_data
from journeychain.tx import Receipt, _plain, _short, node_refusal, node_words

GAS_MARGIN = 1.25
GAS_EXTRA = 20_000
DEFAULT_PRIORITY_FEE = 10**9  # 1 gwei
RECEIPT_TIMEOUT = 180
#: seconds fee data is kept before it is read again
FEE_TTL = 10.0
#: the receipt poll interval's bounds, in seconds
POLL_MIN, POLL_MAX = 0.02, 1.0
#: a replacement's fees, as a multiple of the stuck transaction's (nodes ask 10% more)
REPLACEMENT_BUMP = 1.25
#: blocks read to measure the chain's block time
BLOCK_SAMPLE = 10
TRANSPORT = (RequestsConnectionError, Timeout, ConnectionError, TimeoutError)


# --- the account's lock and nonces -----------------------------------------------------


class AccountLock:
    """One account's nonces on one chain: a re-entrant thread lock and an fcntl file lock, and
    the next nonce while the lock is held (asked of the node once per hold)."""

    def __init__(self, path: Path):
        self.path = path
        self._thread = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self.next_nonce: int | None = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[AccountLock]:
        with self._thread:
            if self._depth == 0:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
                self.next_nonce = None
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    self.next_nonce = None
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None


_LOCKS: dict[Path, AccountLock] = {}
_LOCKS_GUARD = threading.Lock()


def account_lock(chain_key: str, address: str) -> AccountLock:
    """The lock of `address` on the chain `chain_key` (one object per file and process)."""
    folder = private_dir(journey_home() / "nonces")
    path = folder / f"{chain_key.replace(':', '-')}-{address.lower()}.lock"
    with _LOCKS_GUARD:
        if path not in _LOCKS:
            _LOCKS[path] = AccountLock(path)
        return _LOCKS[path]


# --- what is kept about a chain ----------------------------------------------------------


def chain_key(chain: Chain) -> str:
    """The chain's identity for nonces and the journal: its id and its genesis block's hash (two
    local chains with one id are told apart)."""
    key = chain.cache.get("key")
    if key is None:
        genesis = chain.w3.eth.get_block(0)["hash"]
        key = chain.cache["key"] = f"{chain.chain_id}:{HexBytes(genesis).to_0x_hex()[:18]}"
    return str(key)


def block_time(chain: Chain) -> float | None:
    """The chain's mean block time over its last BLOCK_SAMPLE blocks (None: too few blocks)."""
    if "block_time" not in chain.cache:
        w3 = chain.w3
        latest = w3.eth.get_block("latest")
        chain.cache.setdefault("gas_limit", int(latest["gasLimit"]))
        number = int(latest["number"])
        seconds: float | None = None
        if number > 1:
            earlier = w3.eth.get_block(max(1, number - BLOCK_SAMPLE))
            blocks = number - int(earlier["number"])
            if blocks:
                seconds = (int(latest["timestamp"]) - int(earlier["timestamp"])) / blocks
        chain.cache["block_time"] = seconds
    value = chain.cache["block_time"]
    return float(value) if value is not None else None


def poll_interval(chain: Chain) -> float:
    """The receipt poll interval: a quarter of the block time, within POLL_MIN and POLL_MAX."""
    seconds = block_time(chain)
    if not seconds:
        return 0.1
    return min(POLL_MAX, max(POLL_MIN, seconds / 4))


def gas_limit(chain: Chain) -> int:
    if "gas_limit" not in chain.cache:
        chain.cache["gas_limit"] = int(chain.w3.eth.get_block("latest")["gasLimit"])
    return int(chain.cache["gas_limit"])


# --- counting what is asked of the node ---------------------------------------------------


def count_rpc(w3: Any) -> Counter[str]:
    """Counts, by method, every JSON-RPC request `w3`'s HTTP provider sends the node from now on
    (answers the provider keeps are not counted): for benchmarks and tests, how many calls one
    transaction costs."""
    counter: Counter[str] = Counter()
    manager = w3.provider._request_session_manager
    post = manager.make_post_request

    def counting(uri: Any, data: bytes, **kwargs: Any) -> Any:
        try:
            decoded = json.loads(data)
        except ValueError:  # not JSON: counted as one request of no name
            decoded = {}
        for request in decoded if isinstance(decoded, list) else [decoded]:
            counter[str(request.get("method", ""))] += 1
        return post(uri, data, **kwargs)

    manager.make_post_request = counting
    return counter


# --- a plain transfer, as a call ------------------------------------------------------


@dataclass(frozen=True)
class EtherTransfer:
    """Ether sent to an address, shaped as a contract call for the sender
    (`sender.send(EtherTransfer(w3, to), value=...)`)."""

    w3: Any
    to: str
    fn_name: str = "transfer"

    def estimate_gas(self, params: dict[str, Any]) -> int:
        return int(self.w3.eth.estimate_gas({**params, "to": self.to}))

    def build_transaction(self, params: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in params.items() if k != "from"} | {"to": self.to, "data": "0x"}

    def call(self, params: dict[str, Any], block_identifier: Any = "latest") -> Any:
        return self.w3.eth.call({**params, "to": self.to}, block_identifier)


# --- a transaction in flight -------------------------------------------------------------


@dataclass
class PendingTx:
    """A signed transaction handed to the node, not yet awaited; `wait()` gives its Receipt."""

    sender: Sender
    call: Any
    tx: dict[str, Any]
    hashes: list[str]
    sent_at: float = field(default_factory=time.monotonic)
    _receipt: Receipt | None = None

    @property
    def tx_hash(self) -> str:
        """The hash of the transaction last signed for this nonce (a replacement's, if any)."""
        return self.hashes[-1]

    @property
    def nonce(self) -> int:
        return int(self.tx["nonce"])

    def wait(self, timeout: float = RECEIPT_TIMEOUT) -> Receipt:
        if self._receipt is None:
            self._receipt = self.sender.wait(self, timeout)
        return self._receipt


def wait_all(pending: Sequence[PendingTx], timeout: float = RECEIPT_TIMEOUT) -> list[Receipt]:
    """Waits for every transaction; the first failure is raised once all are awaited."""
    receipts: list[Receipt] = []
    failure: BaseException | None = None
    for p in pending:
        try:
            receipts.append(p.wait(timeout))
        except JourneyError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    return receipts


# --- the sender --------------------------------------------------------------------------


class Sender:
    """Signs and sends the transactions of one account on one chain."""

    def __init__(
        self,
        chain: Chain,
        account: LocalAccount,
        decoder: Decoder,
        context: Context | None = None,
        *,
        stuck_after: float | None = None,
        journal_: Journal | None = None,
    ):
        self.chain = chain
        self.account = account
        self.decoder = decoder
        self.context = context or Context()
        self.stuck_after = stuck_after
        self._journal = journal_

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = journal()
        return self._journal

    @property
    def key(self) -> str:
        return chain_key(self.chain)

    def lock(self) -> AccountLock:
        return account_lock(self.key, self.account.address)

    @contextlib.contextmanager
    def holding(self) -> Iterator[Sender]:
        """Holds the account's lock: no other sender of the account (thread or process) signs
        a transaction until the block ends; the node is asked for the nonce once."""
        with self.lock().hold():
            yield self

    # --- refusals
    def refusal(self, exc: BaseException) -> JourneyError | None:
        """The rule's exception for a failed call or estimate, if the chain said why."""
        data = revert_data(exc)
        if data:
            return self.decoder.decode(data, self.context)
        if isinstance(exc, ContractLogicError):
            message = str(exc.message if hasattr(exc, "message") else exc)
            return self.decoder.decode(b"", self.context) if not message else _plain(message)
        return None

    def _lost(self, exc: BaseException, what: str = "") -> ChainError:
        return ChainError(f"lost the chain at {self.chain.url}{what}: {type(exc).__name__}")

    # --- fees
    def _fees(self) -> dict[str, int]:
        """Fee fields for the next transaction: EIP-1559 where the chain has a base fee (twice the
        base fee plus the tip), else the legacy gas price; kept FEE_TTL seconds."""
        cached = self.chain.cache.get("fees")
        if cached is not None and time.monotonic() - cached[0] < FEE_TTL:
            return dict(cached[1])
        w3 = self.chain.w3
        latest = w3.eth.get_block("latest")
        self.chain.cache.setdefault("gas_limit", int(latest["gasLimit"]))
        base = latest.get("baseFeePerGas")
        if base is None:
            fees = {"gasPrice": int(w3.eth.gas_price)}
        else:
            try:
                tip = int(w3.eth.max_priority_fee)
            except Exception:  # a node without eth_maxPriorityFeePerGas
                tip = DEFAULT_PRIORITY_FEE
            tip = max(tip, 1)
            fees = {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * int(base) + tip}
        self.chain.cache["fees"] = (time.monotonic(), fees)
        return dict(fees)

    # --- sending
    def send(
        self,
        call: Any,
        *,
        value: int = 0,
        gas: int | None = None,
        nonce: int | None = None,
        intent: Intent | None = None,
    ) -> Receipt:
        """Sends a contract call (`contract.functions.x(...)`) or a deployment constructor and
        waits for it; `nonce` fixes the nonce (to replace a pending transaction, say) instead of
        the account's next; `intent` is what the journal records it for.

        A write of the same intent (by default: the same call to the same contract) that this
        account signed before and whose reply was lost is looked up first: if it was mined, its
        receipt is the answer (`Receipt.already`), and nothing is sent again."""
        intent = intent or _call_intent(call, value)
        if intent is not None and nonce is None:
            found = self.recall(intent.key)
            if found is not None:
                found[1].already = True
                return found[1]
        return self.submit(call, value=value, gas=gas, nonce=nonce, intent=intent).wait()

    def send_many(self, calls: Sequence[Any], *, gas: int | None = None) -> list[Receipt]:
        """Sends every call without waiting for any (one nonce look-up for all, the account held
        meanwhile), then waits for them together. A refusal before sending stops the rest; the
        ones already sent are awaited first."""
        pending: list[PendingTx] = []
        try:
            with self.holding():
                for call in calls:
                    pending.append(self.submit(call, gas=gas))
        except JourneyError:
            with contextlib.suppress(JourneyError):
                wait_all(pending)
            raise
        return wait_all(pending)

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
        except TRANSPORT as exc:
            raise self._lost(exc) from None

    def estimate(self, call: Any, value: int = 0) -> int:
        """The gas to send `call` with: the node's estimate plus a margin, within the block's limit;
        a refusal raises its rule's exception."""
        sender = self.account.address
        self.context.action = getattr(call, "fn_name", "")
        params = {"from": sender, "value": value}
        try:
            encoded = _encoded(call)
            if encoded is None:
                estimate = call.estimate_gas(params)
            else:  # the call data encoded once, for the estimate, the transaction and the journal
                request: Any = params | {"to": encoded[0], "data": encoded[1]}
                estimate = self.chain.w3.eth.estimate_gas(request)
        except (ContractCustomError, ContractLogicError, Web3RPCError, ValueError) as exc:
            refusal = self.refusal(exc) or node_refusal(exc, sender, params, self.chain.w3)
            if refusal is not None:
                raise refusal from None
            raise TransactionError(f"the chain refused to estimate the transaction: {_short(exc)}") from None
        except TRANSPORT as exc:
            raise self._lost(exc) from None
        return min(int(estimate * GAS_MARGIN) + GAS_EXTRA, gas_limit(self.chain))

    def submit(
        self,
        call: Any,
        *,
        value: int = 0,
        gas: int | None = None,
        nonce: int | None = None,
        intent: Intent | None = None,
    ) -> PendingTx:
        """Estimates, signs, records and sends `call`, and returns at once: a PendingTx."""
        try:
            if gas is None:
                gas = self.estimate(call, value)
            self.context.action = getattr(call, "fn_name", "")
            params: dict[str, Any] = {
                "from": self.account.address,
                "value": value,
                "chainId": self.chain.chain_id,
                "gas": gas,
            }
            with self.lock().hold() as held:
                return self._sign_and_send(call, params, held, nonce, intent)
        except TRANSPORT as exc:
            raise self._lost(exc) from None

    def _sign_and_send(
        self, call: Any, params: dict[str, Any], held: AccountLock, nonce: int | None, intent: Intent | None
    ) -> PendingTx:
        w3 = self.chain.w3
        sender = self.account.address
        retried: set[str] = set()
        while True:
            if nonce is not None:
                this_nonce = int(nonce)
            elif held.next_nonce is not None:
                this_nonce = held.next_nonce
            else:
                this_nonce = held.next_nonce = int(w3.eth.get_transaction_count(sender, "pending"))
            encoded = _encoded(call)
            if encoded is None:
                tx = call.build_transaction(params | self._fees() | {"nonce": this_nonce})
            else:
                tx = {k: v for k, v in params.items() if k != "from"}
                tx |= self._fees() | {"nonce": this_nonce, "to": encoded[0], "data": encoded[1]}
            signed = self.account.sign_transaction(tx)
            tx_hash = HexBytes(signed.hash).to_0x_hex()
            self.journal.record(tx_hash, self.key, sender, this_nonce, intent or _default_intent(call, tx))
            try:
                w3.eth.send_raw_transaction(signed.raw_transaction)
            except TRANSPORT as exc:
                # the node may hold it: the next hold asks the node again, and the journal keeps it
                held.next_nonce = None
                raise self._lost(exc, f" while sending transaction {tx_hash}") from None
            except (Web3RPCError, ValueError) as exc:
                # ganache (vmErrorsOnRPCResponse) mines the transaction as it takes it, and answers
                # a revert as an error naming the mined transaction: its receipt is read as any other's
                mined = mined_transaction(exc)
                if mined is not None:
                    tx_hash = HexBytes(mined).to_0x_hex()
                else:
                    self.journal.drop(tx_hash)
                    refused = node_refusal(exc, sender, tx, w3)
                    kind = _retryable(refused)
                    if nonce is None and kind is not None and kind not in retried:
                        retried.add(kind)
                        if kind == "nonce":
                            held.next_nonce = None
                        else:
                            self.chain.cache.pop("fees", None)
                        continue
                    if refused is not None:
                        raise refused from None
                    raise TransactionError(f"the chain refused the transaction: {_short(exc)}") from None
            if nonce is None:
                held.next_nonce = this_nonce + 1
            return PendingTx(self, call, dict(tx), [tx_hash])

    # --- waiting
    def wait(self, pending: PendingTx, timeout: float = RECEIPT_TIMEOUT) -> Receipt:
        """Polls for the receipt of `pending` (of any transaction signed for its nonce),
        replacing it with higher fees once it has waited `stuck_after` seconds."""
        w3 = self.chain.w3
        interval = poll_interval(self.chain)
        stuck_after = self.stuck_after
        if stuck_after is None:
            stuck_after = max(30.0, 6 * (block_time(self.chain) or 0))
        deadline = time.monotonic() + timeout
        replace_at = time.monotonic() + stuck_after
        while True:
            for tx_hash in reversed(pending.hashes):
                try:
                    receipt = w3.eth.get_transaction_receipt(HexBytes(tx_hash))
                except TransactionNotFound:
                    continue
                except TRANSPORT as exc:
                    raise self._lost(exc, f" while waiting for transaction {tx_hash}") from None
                return self._received(pending, receipt)
            now = time.monotonic()
            if now >= deadline:
                raise ChainError(f"transaction {pending.tx_hash} was not mined within {timeout:.0f} s")
            if now >= replace_at:
                self._replace(pending)
                replace_at = now + stuck_after
            time.sleep(interval)

    def _received(self, pending: PendingTx, receipt: Any) -> Receipt:
        tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
        self.journal.answer(tx_hash)
        if receipt["status"] != 1:
            raise self._mined_revert(pending.call, pending.tx, receipt)
        return Receipt(tx_hash, int(receipt["blockNumber"]), int(receipt["gasUsed"]), receipt)

    def _replace(self, pending: PendingTx) -> None:
        """Signs the stuck transaction again, same nonce, fees raised by REPLACEMENT_BUMP."""
        tx = dict(pending.tx)
        for name in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice"):
            if name in tx:
                tx[name] = int(int(tx[name]) * REPLACEMENT_BUMP) + 1
        signed = self.account.sign_transaction(tx)
        tx_hash = HexBytes(signed.hash).to_0x_hex()
        old = self.journal.get(pending.tx_hash)
        intent = Intent(old.intent, old.journey, old.step) if old else _default_intent(pending.call, tx)
        self.journal.record(tx_hash, self.key, self.account.address, pending.nonce, intent)
        try:
            self.chain.w3.eth.send_raw_transaction(signed.raw_transaction)
        except (Web3RPCError, ValueError) as exc:
            # mined meanwhile (nonce too low), or already known: keep waiting for what was sent
            self.journal.drop(tx_hash)
            if node_refusal(exc, self.account.address, tx) is None and "known" not in node_words(exc)[1]:
                raise TransactionError(f"the chain refused the replacement: {_short(exc)}") from None
            return
        except TRANSPORT as exc:
            raise self._lost(exc, f" while replacing transaction {pending.tx_hash}") from None
        pending.tx = tx
        pending.hashes.append(tx_hash)

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

    # --- retries
    def recall(self, intent: str) -> tuple[Entry, Receipt] | None:
        """The mined, successful transaction this account signed for `intent` whose reply was lost,
        with its receipt (marked answered now); None when there is none. A recorded transaction
        the node never received is forgotten; one still in the node's pool is awaited."""
        w3 = self.chain.w3
        for entry in self.journal.unanswered(self.key, self.account.address, intent):
            try:
                receipt = w3.eth.get_transaction_receipt(HexBytes(entry.hash))
            except TransactionNotFound:
                try:
                    w3.eth.get_transaction(HexBytes(entry.hash))
                except TransactionNotFound:
                    self.journal.drop(entry.hash)
                    continue
                receipt = w3.eth.wait_for_transaction_receipt(
                    HexBytes(entry.hash), timeout=RECEIPT_TIMEOUT, poll_latency=poll_interval(self.chain)
                )
            except TRANSPORT as exc:
                raise self._lost(exc) from None
            self.journal.answer(entry.hash)
            if receipt["status"] == 1:
                return entry, Receipt(
                    entry.hash, int(receipt["blockNumber"]), int(receipt["gasUsed"]), receipt
                )
        return None


def _encoded(call: Any) -> tuple[str, str] | None:
    """A contract function call's address and call data, encoded once (kept on the call); None
    for a deployment or a plain transfer, which build their own transactions."""
    cached: tuple[str, str] | None = getattr(call, "_journey_encoded", None)
    if cached is not None:
        return cached
    address = getattr(call, "address", None)
    encode = getattr(call, "_encode_transaction_data", None)
    if not address or encode is None:
        return None
    encoded = (str(address), str(encode()))
    call._journey_encoded = encoded
    return encoded


def _call_intent(call: Any, value: int) -> Intent | None:
    """The intent of a contract call known by its call data (None for a deployment)."""
    encoded = _encoded(call)
    if encoded is None:
        return None
    return Intent(f"call:{encoded[0].lower()}:{encoded[1]}:{value}")


def _default_intent(call: Any, tx: dict[str, Any]) -> Intent:
    """A write with no intent of its own is known by its call data: the same call sent again."""
    return Intent(
        f"call:{str(tx.get('to') or '').lower()}:{tx.get('data') or ''}:{int(tx.get('value') or 0)}"
    )


def _retryable(refused: JourneyError | None) -> str | None:
    """Which refusal a fresh look-up can cure: a nonce used meanwhile, or fees below the base fee."""
    if isinstance(refused, NonceError) and "is used already" in str(refused):
        return "nonce"
    if isinstance(refused, FeeError) and "base fee" in str(refused):
        return "fees"
    return None
