"""What the indexer reads from the chain: the deployment's events in a block range, block
hashes and times, and who owns a journey's first step (its opening transaction names it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_utils import to_checksum_address
from hexbytes import HexBytes

from journeychain.artifacts import load_build
from journeychain.deployments import Deployment
from journeychain.keeper import Retry
from journeychain.timeline import ENGINE_EVENTS, VOICE_EVENTS, ZERO_ADDRESS, ChainEvent, fetch_events

DIRECTORY_EVENTS = ("OrganisationRegistered", "MemberAdded", "ParticipantRegistered")
#: a playbook and the calendars its steps count working time by (published before it, immutable)
PUBLISHER_EVENTS = ("PlaybookPublished", "CalendarPublished")
#: Every event the index folds.
INDEXED_EVENTS = (*ENGINE_EVENTS, "Claimed", *VOICE_EVENTS, *DIRECTORY_EVENTS, *PUBLISHER_EVENTS)


def web3_of(source: Any) -> Any:
    """The Web3 of a Chain, a JourneyClient or a Web3."""
    if hasattr(source, "eth"):
        return source
    if hasattr(source, "w3"):
        return source.w3
    if hasattr(source, "chain"):
        return source.chain.w3
    raise TypeError(f"cannot read the chain from a {type(source).__name__}")


class ChainSource:
    """The deployment's contracts on one Web3, read with retries."""

    def __init__(
        self, w3: Any, deployment: Deployment, call: Callable[[Callable[[], Any]], Any] | None = None
    ):
        build = load_build()
        self.w3 = w3
        self.call = call or Retry()
        engine_abi = build["JourneyEngine"].abi
        self.engine = w3.eth.contract(address=deployment.engine, abi=engine_abi)
        self.contracts = [
            self.engine,
            w3.eth.contract(address=deployment.voice, abi=build["CustomerVoice"].abi),
            w3.eth.contract(address=deployment.directory, abi=build["Directory"].abi),
            # the engine's ABI declares the publisher's event, as the timeline reads it
            w3.eth.contract(address=deployment.publisher, abi=engine_abi),
            w3.eth.contract(
                address=self.call(lambda: self.engine.functions.calendars().call()),
                abi=build["Calendars"].abi,
            ),
        ]
        self._blocks: dict[int, tuple[str, int]] = {}

    def head(self) -> int:
        return int(self.call(lambda: self.w3.eth.block_number))

    def block(self, number: int) -> tuple[str, int] | None:
        """A block's hash and time; None when the chain has no such block (any more)."""
        if number < 0:
            return None
        if number not in self._blocks:
            try:
                block = self.call(lambda: self.w3.eth.get_block(number))
            except Exception as exc:  # web3's BlockNotFound: the chain is shorter now
                if type(exc).__name__ == "BlockNotFound":
                    return None
                raise
            if block is None:
                return None
            self._blocks[number] = (HexBytes(block["hash"]).to_0x_hex(), int(block["timestamp"]))
        return self._blocks[number]

    def forget_blocks(self) -> None:
        """Drops the cached hashes (after a reorganisation they may be stale)."""
        self._blocks.clear()

    def events(self, start: int, end: int, chunk: int) -> list[ChainEvent]:
        return fetch_events(self.w3, self.contracts, INDEXED_EVENTS, start, end, chunk=chunk, call=self.call)

    def first_owner(self, ev: ChainEvent) -> tuple[str | None, bool]:
        """Who owns an opened journey's first step as its opening call named it: (the assignee,
        True), or (None, True) when it named none (the opener's organisation owns it), or
        (None, False) when the call cannot be read (sent through another contract)."""
        jid = bytes(ev.args["journeyId"])
        tx = self.call(lambda: self.w3.eth.get_transaction(ev.tx))
        if to_checksum_address(tx["to"] or ZERO_ADDRESS) != self.engine.address:
            return None, False
        found = self._opening(bytes(tx["input"]), jid, depth=0)
        if found is None:
            return None, False
        return (None if found == ZERO_ADDRESS else to_checksum_address(found)), True

    def _opening(self, data: bytes, jid: bytes, depth: int) -> str | None:
        try:
            fn, params = self.engine.decode_function_input(data)
        except ValueError:
            return None
        if fn.fn_name == "openJourney" and bytes(params["journeyId"]) == jid:
            return str(params["assignee"])
        if fn.fn_name == "multicall" and depth == 0:
            for inner in params["data"]:
                found = self._opening(bytes(inner), jid, depth + 1)
                if found is not None:
                    return found
        return None

    def owner_at(self, jid: bytes, block: int) -> tuple[str | None, int | None]:
        """The engine's owner of a journey's current step as of `block` (a node that keeps that
        block's state answers)."""
        assignee, org = self.call(lambda: self.engine.functions.ownerOf(jid).call(block_identifier=block))
        return (None if assignee == ZERO_ADDRESS else assignee), (int(org) or None)
