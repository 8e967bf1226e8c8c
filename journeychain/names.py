"""The local address book: the names people give addresses ("Sales rep A"), so that tables and
timelines show who, not a hex string.

Kept in $JOURNEY_HOME/names.json per chain id (the same key names the same account on every
deployment of a chain), readable by its owner only (0600): names are the user's own words about
people and firms, never sent to the chain. Addresses are kept in checksum form; a mixed-case
address with a wrong EIP-55 checksum is refused, as everywhere. Names are unique per chain
(case aside), so that a name can stand for its address (`journey list --assignee "Sales rep A"`).

`Names` is what the printers take: a dict of address -> name, with the on-chain organisations'
short names under "org:N" keys (`org_key`), which `journeychain.timeline.label` and
`org_label` read.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from journeychain.accounts import checksum
from journeychain.chain import journey_home, write_private
from journeychain.errors import ConfigError
from journeychain.jsonfile import read_json_object

#: The longest name kept: tables stay narrow.
MAX_NAME = 32


def org_key(org: int) -> str:
    """The key an organisation's name is kept under in a `Names` dict."""
    return f"org:{int(org)}"


class Names(dict[str, str]):
    """Address (checksum form) -> name, and "org:N" -> an organisation's short name."""

    def address_of(self, name: str) -> str | None:
        """The address a name stands for (case aside), if any."""
        wanted = name.strip().casefold()
        return next((a for a, n in self.items() if not a.startswith("org:") and n.casefold() == wanted), None)

    def org_of(self, name: str) -> int | None:
        """The organisation a name is the short name of, if any."""
        wanted = name.strip().casefold()
        return next(
            (int(k[4:]) for k, n in self.items() if k.startswith("org:") and n.casefold() == wanted), None
        )


def check_name(name: str) -> str:
    """A name as kept: trimmed, 1 to MAX_NAME characters, no control characters, and nothing an
    address or an account name could be mistaken for."""
    text = name.strip()
    if not text:
        raise ConfigError("a name cannot be empty")
    if len(text) > MAX_NAME:
        raise ConfigError(f"a name is at most {MAX_NAME} characters, not {len(text)} ({text[:16]!r}...)")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise ConfigError(f"the name {text!r} holds control characters")
    if text.lower().startswith(("0x", "dev:", "org:")):
        raise ConfigError(f"the name {text!r} looks like an address or an account: choose another")
    return text


class AddressBook:
    """The names of one chain's addresses, in $JOURNEY_HOME/names.json (0600)."""

    def __init__(self, chain_id: int, path: Path | None = None):
        self.path = path or journey_home() / "names.json"
        self.key = str(int(chain_id))

    def _all(self) -> dict[str, dict[str, str]]:
        """Every chain's names; a file that is not an address book is refused, and left as it is."""
        return read_json_object(
            self.path,
            "the address book",
            "an address book",
            lambda data: all(
                isinstance(names, dict) and all(isinstance(n, str) for n in names.values())
                for names in data.values()
            ),
            "names by chain and address",
        )

    def names(self) -> Names:
        """This chain's names, by address."""
        return Names(self._all().get(self.key, {}))

    def name(self, address: str, name: str) -> str | None:
        """Names `address` (or renames it); returns the name it had. A name another address of
        this chain has is refused."""
        address, name = checksum(address), check_name(name)
        data = self._all()
        names = data.setdefault(self.key, {})
        holder = Names(names).address_of(name)
        if holder is not None and holder != address:
            raise ConfigError(
                f"{name!r} names {holder} already: `journey participant name {holder} --remove` first, "
                "or choose another name"
            )
        before = names.get(address)
        names[address] = name
        write_private(self.path, json.dumps(data, indent=2, sort_keys=True))
        return before

    def remove(self, address: str) -> str:
        """Removes the name of `address`; returns it. An address with no name is refused."""
        address = checksum(address)
        data = self._all()
        names = data.get(self.key, {})
        if address not in names:
            raise ConfigError(f"{address} has no name in the address book of chain {self.key}")
        name = names.pop(address)
        write_private(self.path, json.dumps(data, indent=2, sort_keys=True))
        return name
