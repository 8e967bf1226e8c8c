"""The customer's link: an unguessable, expiring token that opens one journey's customer page.

A token is the journey id and an expiry, authenticated with a secret only the service holds
(HMAC-SHA256, 128 bits kept): nothing is stored per link, a token cannot be made for another
journey or given a longer life, and it shows nothing but its journey. The secret is created on
first use in the operator's private journeychain folder (0600); replacing it revokes every link.

The per-journey signing key, when the link carries one, travels in the URL's fragment
(``#key=0x...``), which browsers never send to a server: the page keeps it in the browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from journeychain.chain import journey_home, write_private
from journeychain.errors import LinkError

_TAG = 16  # bytes of the HMAC kept: 2^128 guesses per journey and expiry
_SIZE = 32 + 8 + _TAG


@dataclass(frozen=True)
class OpenedLink:
    """What a valid token names: the journey and until when the link works."""

    journey: bytes
    expires: int


class CustomerLinks:
    """Makes and checks customer links with the service's secret."""

    def __init__(self, secret: bytes):
        if len(secret) < 32:
            raise LinkError("a customer-link secret is at least 32 bytes")
        self._secret = secret

    @classmethod
    def load(cls, path: Path | None = None) -> CustomerLinks:
        """The links of the secret kept at `path` (default: the journeychain folder's
        `link-secret`), created there on first use."""
        path = path or journey_home() / "link-secret"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raw = b""
        except OSError as exc:
            raise LinkError(f"cannot read the customer-link secret {path}: {exc.strerror}") from None
        secret = bytes.fromhex(raw.decode("ascii", "replace").strip()) if raw.strip() else b""
        if not secret:
            secret = os.urandom(32)
            write_private(path, secret.hex() + "\n")
        return cls(secret)

    def _tag(self, body: bytes) -> bytes:
        return hmac.new(self._secret, b"journeychain/customer-link/1" + body, hashlib.sha256).digest()[:_TAG]

    def issue(self, journey: bytes, expires: int) -> str:
        """A token for the journey's page that works until `expires` (a Unix time)."""
        if len(journey) != 32:
            raise LinkError("a journey id is 32 bytes")
        body = bytes(journey) + struct.pack(">Q", expires)
        return base64.urlsafe_b64encode(body + self._tag(body)).decode("ascii").rstrip("=")

    def open(self, token: str, now: int) -> OpenedLink:
        """The journey a token opens; a token that is not one of ours, or has expired, is refused
        with the same sentence for both wrong kinds (nothing to learn from probing)."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raw = b""
        if len(raw) != _SIZE or not hmac.compare_digest(raw[40:], self._tag(raw[:40])):
            raise LinkError("this link is not a journeychain customer link: ask for a new one")
        (expires,) = struct.unpack(">Q", raw[32:40])
        if now >= expires:
            raise LinkError("this link has expired: ask for a new one")
        return OpenedLink(raw[:32], expires)
