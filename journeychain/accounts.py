"""Accounts that sign locally: encrypted keystore files, and a local chain's development accounts.

Keystore files use eth-account's keyfile format (scrypt, the format geth and most wallets
read), one file per alias in `$JOURNEY_HOME/keystore`. A private key is read from a prompt,
from standard input or from an environment variable: never from a command-line argument,
which the shell history and the process list would show. The password comes from a prompt
or `$JOURNEY_PASSWORD`.

An account name is a keystore alias, an address (of a keystore file), or `dev:N`: the N-th
development account of a local chain (anvil's default mnemonic, which the ganache that
journeychain or `make setup`'s brownie network starts is given too), refused on other chains: a
local chain has chain id 31337 or 1337 and a node that names itself anvil, ganache or hardhat
(web3_clientVersion), since anyone who knows the public mnemonic could sign for dev:N elsewhere.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, is_checksum_address, is_checksum_formatted_address, to_checksum_address

from journeychain.chain import DEV_MNEMONIC, Chain, journey_home, private_dir
from journeychain.errors import AccountError, ConfigError

DEV_COUNT = 10
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")

Account.enable_unaudited_hdwallet_features()


@dataclass(frozen=True)
class KeystoreEntry:
    """One keystore file: its alias, its address and where it is."""

    alias: str
    address: str
    path: Path


def keystore_dir() -> Path:
    return private_dir(journey_home() / "keystore")


def checksum(address: str) -> str:
    """An address in checksum form, or a ConfigError sentence. A mixed-case address must carry a
    right EIP-55 checksum (a mistyped digit would otherwise name somebody else); all lower case
    (or all upper case) carries none and is taken as it is."""
    if not isinstance(address, str) or not is_address(address):
        raise ConfigError(f"{address!r} is not an address (0x and 40 hex digits)")
    if is_checksum_formatted_address(address) and not is_checksum_address(address):
        raise ConfigError(
            f"{address} has a wrong EIP-55 checksum (mixed case): check it for a typo, "
            "or give it in lower case"
        )
    return to_checksum_address(address)


def dev_account(index: int, chain: Chain | None = None) -> LocalAccount:
    """The N-th development account of a local chain (anvil's and hardhat's default mnemonic)."""
    if chain is not None and not chain.is_local:
        raise AccountError(
            f"dev:{index} is a development account: refused on chain {chain.chain_id}, "
            f"{chain.not_local_reason()}"
        )
    if not 0 <= index < DEV_COUNT:
        raise AccountError(f"dev:{index}: development accounts run from dev:0 to dev:{DEV_COUNT - 1}")
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def _dev_index(name: str) -> int | None:
    if not name.startswith("dev:"):
        return None
    try:
        return int(name[4:])
    except ValueError:
        raise AccountError(f"{name!r} is not a development account name (dev:0 to dev:9)") from None


def list_accounts() -> list[KeystoreEntry]:
    """Every keystore file, by alias."""
    entries = []
    for path in sorted(keystore_dir().glob("*.json")):
        try:
            address = to_checksum_address(json.loads(path.read_text(encoding="utf-8"))["address"])
        except (OSError, ValueError, KeyError, TypeError):  # not a keystore file: load_account says so
            continue
        entries.append(KeystoreEntry(path.stem, address, path))
    return entries


def find_account(name: str) -> KeystoreEntry | None:
    """The keystore entry with this alias or address."""
    for entry in list_accounts():
        if entry.alias == name or (is_address(name) and entry.address.lower() == name.lower()):
            return entry
    return None


def ask_secret(prompt: str, hint: str) -> str:
    """A secret typed at the terminal without echo; without a terminal (where getpass would warn
    and read standard input in clear) an AccountError naming what is needed and `hint`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", getpass.GetPassWarning)
            return getpass.getpass(f"{prompt}: ")
    except (getpass.GetPassWarning, EOFError, OSError):
        raise AccountError(f"the {prompt} is needed and there is no terminal to ask for it: {hint}") from None


def get_password(prompt: str = "password", confirm: bool = False) -> str:
    """The keystore password: `$JOURNEY_PASSWORD`, else asked for without echo."""
    env = os.environ.get("JOURNEY_PASSWORD")
    if env is not None:
        return env
    hint = "set JOURNEY_PASSWORD"
    password = ask_secret(prompt, hint)
    if confirm and ask_secret(f"{prompt} (again)", hint) != password:
        raise AccountError("the two passwords differ")
    return password


def _save(alias: str, account: LocalAccount, password: str) -> KeystoreEntry:
    if not _ALIAS.match(alias):
        raise ConfigError(
            f"account alias {alias!r} must start with a letter and hold only letters, digits, '.', '_' or '-'"
        )
    if find_account(alias) is not None:
        raise AccountError(f"an account named {alias!r} exists already")
    existing = find_account(account.address)
    if existing is not None:
        raise AccountError(f"{account.address} is in the keystore already, as {existing.alias!r}")
    if not password:
        raise AccountError("refusing an empty password: the keystore file would be readable by anyone")
    path = keystore_dir() / f"{alias}.json"
    data = Account.encrypt(account.key, password)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # a file find_account could not read: never overwrite a key
        raise AccountError(
            f"{path} exists already and is not a readable keystore file: move it aside"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)  # whatever the umask
        json.dump(data, out)
    return KeystoreEntry(alias, account.address, path)


def create_account(alias: str, password: str) -> KeystoreEntry:
    """A new random key, encrypted into the keystore under `alias`."""
    return _save(alias, Account.create(), password)


def import_account(alias: str, private_key: str, password: str) -> KeystoreEntry:
    """An existing private key (hex), encrypted into the keystore under `alias`."""
    try:
        account = Account.from_key(private_key.strip())
    except Exception:  # any malformed key: the message must not echo it
        raise AccountError("that is not a private key (64 hex digits, with or without 0x)") from None
    return _save(alias, account, password)


def unlock(entry: KeystoreEntry, password: str | None = None) -> LocalAccount:
    """The signing key of a keystore entry; a wrong password is an AccountError."""
    try:
        data = json.loads(entry.path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AccountError(f"{entry.path} is not a readable keystore file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("crypto") or data.get("Crypto"), dict):
        raise AccountError(f"{entry.path} is not a keystore file (no crypto section)")
    password = get_password(f"password for {entry.alias}") if password is None else password
    try:
        key = Account.decrypt(data, password)
    except ValueError:
        raise AccountError(f"wrong password for account {entry.alias!r}") from None
    except (KeyError, TypeError, AttributeError):
        raise AccountError(
            f"{entry.path} is not a keystore file (its crypto section is incomplete)"
        ) from None
    return Account.from_key(key)


def load_account(name: str, chain: Chain | None = None, password: str | None = None) -> LocalAccount:
    """The signing key named `name`: dev:N, a keystore alias or a keystore address."""
    index = _dev_index(name)
    if index is not None:
        return dev_account(index, chain)
    entry = find_account(name)
    if entry is None:
        path = keystore_dir() / f"{name}.json"
        if _ALIAS.match(name) and path.exists():
            raise AccountError(f"{path} is not a readable keystore file: restore it or move it aside")
        raise AccountError(f"no account named {name!r} in {keystore_dir()} (see `journey accounts list`)")
    return unlock(entry, password)


def resolve_address(name: str, chain: Chain | None = None) -> str:
    """The address an account name stands for, without unlocking anything."""
    if is_address(name):
        if int(name, 16) == 0:
            raise ConfigError(f"{name} is the zero address, which nobody holds a key for")
        return checksum(name)
    index = _dev_index(name)
    if index is not None:
        return dev_account(index, chain).address
    entry = find_account(name)
    if entry is None:
        raise ConfigError(f"{name!r} is neither an address nor a known account (see `journey accounts list`)")
    return entry.address
