"""brownie's wait for a transaction, made to look for its receipt before it decides the
transaction was dropped. The test suite and the gas benchmark import it for its effect.

anvil counts the sender's nonce up a moment before it stores the receipt; brownie, reading the
nonce in that moment (on a busy machine), declared a mined transaction "dropped without known
replacement"."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from brownie import web3
from brownie.network.transaction import TransactionReceipt
from web3.exceptions import TransactionNotFound

RECEIPT_WAIT_S = 10


def _receipt_first(await_confirmation: Callable[..., None]) -> Callable[..., None]:
    def wait(self: Any, block_number: int | None = None, required_confs: int = 1) -> None:
        give_up = time.monotonic() + RECEIPT_WAIT_S
        while time.monotonic() < give_up:
            try:
                receipt = web3.eth.get_transaction_receipt(self.txid)
            except TransactionNotFound:
                receipt = None
            if receipt is not None and receipt["blockHash"] is not None:
                break
            time.sleep(0.02)
        await_confirmation(self, block_number, required_confs)

    return wait


if not getattr(TransactionReceipt._await_confirmation, "receipt_first", False):
    TransactionReceipt._await_confirmation = _receipt_first(TransactionReceipt._await_confirmation)
    TransactionReceipt._await_confirmation.receipt_first = True  # type: ignore[attr-defined]
