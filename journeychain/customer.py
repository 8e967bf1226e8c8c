"""The customer's side: one secret the customer keeps, a signing key and a profile salt derived
from it for each journey, and requests to sign made by the operator and signed on the customer's
own device.

A customer signs each journey with its own key, derived from the secret and the journey id, so
the chain cannot link two journeys of one customer. The profile salt is derived from the secret
too: the operator chooses neither half of the customer commitment, so making a second opening of
it (another signer and profile with the same 16-byte commitment) is a second-preimage search of
about 2^128 work, not a birthday search of 2^64.

A request is JSON: the EIP-712 typed data (``eth_signTypedData_v4`` takes it as it is) and what
the relay needs besides (the signer, the profile hash, the action's arguments). Its ``url`` is
the same typed data in a ``journeychain:sign?request=...`` link that a page or a wallet opens.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from journeychain.encoding import customer_commitment, journey_id, profile_hash
from journeychain.errors import AccountError, ConfigError, SignatureError
from journeychain.signing import DOMAIN_NAME, DOMAIN_VERSION, TYPES

REQUEST_FORMAT = "journeychain/customer-request/1"
SIGNED_FORMAT = "journeychain/customer-signature/1"
ACTIONS = {"confirm": "ConfirmValue", "dispute": "Dispute", "rate": "Rate"}
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _derive(secret: bytes, purpose: bytes, jid: bytes) -> bytes:
    return keccak(b"journeychain/customer/" + purpose + b"\0" + secret + bytes(jid))


@dataclass(frozen=True)
class CustomerSecret:
    """The one secret a customer keeps; every journey's key and profile salt come from it."""

    secret: bytes = field(repr=False)

    @classmethod
    def create(cls) -> CustomerSecret:
        return cls(os.urandom(32))

    @classmethod
    def load(cls, path: str | Path, password: str) -> CustomerSecret:
        """Read a secret saved with `save` (an encrypted keystore file)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(bytes(Account.decrypt(data, password)))
        except OSError as exc:
            raise AccountError(f"cannot read the customer secret {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise AccountError(
                f"cannot open the customer secret {path}: wrong password or not a keystore"
            ) from exc

    def save(self, path: str | Path, password: str) -> Path:
        """Write the secret encrypted with `password`, readable by its owner only (0600)."""
        path = Path(path)
        if path.exists():
            raise ConfigError(f"{path} exists already: a customer secret is never overwritten")
        data = Account.encrypt(self.secret, password)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        return path

    def key_for(self, journey: str | bytes) -> LocalAccount:
        """This customer's signing key for one journey (by reference or id)."""
        jid = journey_id(journey) if isinstance(journey, str) else bytes(journey)
        scalar = int.from_bytes(_derive(self.secret, b"key", jid), "big") % (_CURVE_ORDER - 1) + 1
        return Account.from_key(scalar.to_bytes(32, "big"))

    def profile_for(self, journey: str | bytes, profile: str) -> bytes:
        """The salted hash of the customer's profile for one journey (the salt is derived)."""
        jid = journey_id(journey) if isinstance(journey, str) else bytes(journey)
        return profile_hash(profile, _derive(self.secret, b"salt", jid))

    def join(self, journey: str | bytes, profile: str) -> dict[str, str]:
        """What the customer hands the operator to open the journey: the signer, the profile hash
        and the commitment they make (nothing personal)."""
        signer = self.key_for(journey).address
        hashed = self.profile_for(journey, profile)
        return {
            "signer": signer,
            "profile": "0x" + hashed.hex(),
            "commitment": "0x" + customer_commitment(signer, hashed).hex(),
        }


@dataclass
class CustomerRequest:
    """What the customer is asked to sign, and what the relay needs to send it."""

    action: str
    journey: str
    signer: str
    profile: str
    typed_data: dict[str, Any]
    reference: str | None = None
    step: int | None = None
    score: int | None = None
    statement: dict[str, Any] | None = field(default=None)

    @property
    def message(self) -> dict[str, Any]:
        return self.typed_data["message"]

    @property
    def url(self) -> str:
        raw = json.dumps(self.typed_data, separators=(",", ":")).encode("utf-8")
        return "journeychain:sign?request=" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def as_dict(self) -> dict[str, Any]:
        data = {"format": REQUEST_FORMAT, **asdict(self), "url": self.url}
        return {k: v for k, v in data.items() if v is not None}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Any, where: str = "request") -> CustomerRequest:
        if not isinstance(data, dict) or data.get("format") != REQUEST_FORMAT:
            raise ConfigError(f"{where} is not a journeychain customer request ({REQUEST_FORMAT})")
        try:
            request = cls(
                action=str(data["action"]),
                journey=str(data["journey"]),
                signer=to_checksum_address(data["signer"]),
                profile=str(data["profile"]),
                typed_data=dict(data["typed_data"]),
                reference=data.get("reference"),
                step=data.get("step"),
                score=data.get("score"),
                statement=data.get("statement"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where} is incomplete: {exc}") from None
        if request.action not in ACTIONS or request.typed_data.get("primaryType") != ACTIONS[request.action]:
            raise ConfigError(f"{where}: unknown action {request.action!r}")
        check_consistent(request, where)
        return request


def check_consistent(request: CustomerRequest, where: str = "request") -> None:
    """Refuses a request whose readable parts say other than what would be signed: the journey,
    step and score shown must be the message's, and the types and domain exactly journeychain's,
    so that a device that shows the request shows what it signs."""
    typed = request.typed_data
    primary = ACTIONS[request.action]
    message = typed.get("message")
    domain = typed.get("domain")
    if typed.get("types") != {"EIP712Domain": _DOMAIN_TYPE, primary: TYPES[primary]}:
        raise SignatureError(f"{where}: its types are not journeychain's {primary}: refusing to sign it")
    if not isinstance(domain, dict) or (domain.get("name"), domain.get("version")) != (
        DOMAIN_NAME,
        DOMAIN_VERSION,
    ):
        raise SignatureError(f"{where}: its domain is not journeychain's: refusing to sign it")
    if not isinstance(message, dict) or str(message.get("journeyId", "")).lower() != request.journey.lower():
        raise SignatureError(f"{where}: it names journey {request.journey} but signs another: refusing it")
    if request.step is not None and message.get("step") != request.step:
        raise SignatureError(f"{where}: it names step {request.step} but signs step {message.get('step')}")
    if request.score is not None and message.get("score") != request.score:
        raise SignatureError(f"{where}: it names score {request.score} but signs {message.get('score')}")


def describe(request: CustomerRequest) -> list[str]:
    """What signing the request says, line by line, for the customer to read first."""
    m, d = request.message, request.typed_data["domain"]
    lines = [f"{request.action} on journey {request.reference or request.journey}"]
    if request.step is not None:
        lines.append(f"step {request.step}" + (f", score {request.score}/5" if request.score else ""))
    if request.statement:
        lines.append(f"{request.statement['kind'].replace('_', ' ')}: {request.statement['text']}")
    lines.append(f"over the journey as it stands now (history {m['history']}), nonce {m['nonce']}")
    until = dt.datetime.fromtimestamp(int(m["deadline"]), dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"good until {until}, on chain {d['chainId']}, contract {d['verifyingContract']}")
    return lines


def build_typed_data(chain_id: int, voice: str, primary: str, message: dict[str, Any]) -> dict[str, Any]:
    """EIP-712 typed data as eth_signTypedData_v4 takes it (bytes as 0x hex)."""
    shown = {
        k: ("0x" + bytes(v).hex() if isinstance(v, (bytes, bytearray)) else v) for k, v in message.items()
    }
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, primary: TYPES[primary]},
        "primaryType": primary,
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(voice),
        },
        "message": shown,
    }


def _signable(typed_data: dict[str, Any]) -> Any:
    return encode_typed_data(full_message=typed_data)


def sign_request(request: CustomerRequest, key: LocalAccount) -> str:
    """Sign a request with the customer's key (on the customer's device); refuses a request whose
    signer is not this key, so an operator cannot have the customer sign for another journey."""
    check_consistent(request)
    if key.address != request.signer:
        raise SignatureError(
            f"this request is for signer {request.signer}, not this customer's key for journey "
            f"{request.reference or request.journey} ({key.address})"
        )
    return "0x" + bytes(Account.sign_message(_signable(request.typed_data), key.key).signature).hex()


def recover_signer(request: CustomerRequest, signature: str) -> str:
    """The account that made `signature` over the request (for an account's key)."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
        return str(Account.recover_message(_signable(request.typed_data), signature=raw))
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"{signature[:20]}… is not a signature: {exc}") from None


def signed_document(request: CustomerRequest, signature: str) -> str:
    """The file the customer's device hands back: the request and its signature."""
    return json.dumps(
        {"format": SIGNED_FORMAT, "request": request.as_dict(), "signature": signature}, indent=2
    )


def read_signed(text: str, where: str) -> tuple[CustomerRequest, str]:
    """A signed document back from the customer: its request and signature."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError(f"{where} is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != SIGNED_FORMAT or "signature" not in data:
        raise ConfigError(f"{where} is not a signed customer request ({SIGNED_FORMAT})")
    return CustomerRequest.from_dict(data.get("request"), where), str(data["signature"])
