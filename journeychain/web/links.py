"""The customer's link: an unguessable, expiring token that opens one journey's customer page.

A token is the journey id and an expiry, authenticated with a secret only the service holds
(HMAC-SHA256, 128 bits kept) and bound to one deployment (its chain, engine and first block):
nothing is stored per link, a token cannot be made for another journey or deployment or given a
longer life, and it shows nothing but its journey. Expiry is wall-clock time, not the chain's (a
local chain moved on by `journey chain advance`, or idle, changes nothing). The secret is
created on first use in the operator's private journeychain folder (0600); replacing it revokes
every link. A wrong token and an expired one get different sentences: the customer is told to
ask for a new link either way (the journey id a token carries is no secret).

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

from journeychain.chain import journey_home
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

    def __init__(self, secret: bytes, scope: str = ""):
        if len(secret) < 32:
            raise LinkError("a customer-link secret is at least 32 bytes")
        self._secret = secret
        self._scope = scope.encode("utf-8")

    @classmethod
    def load(cls, scope: str = "", path: Path | None = None) -> CustomerLinks:
        """The links of one deployment (`scope`: its key, `str(deployment.key)`) under the secret
        kept at `path` (default: the journeychain folder's `link-secret`), created on first use."""
        path = path or journey_home() / "link-secret"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        except OSError as exc:
            raise LinkError(f"cannot create the customer-link secret {path}: {exc.strerror}") from None
        else:  # first use: only the process that created the file writes the secret
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(os.urandom(32).hex() + "\n")
        try:
            text = path.read_text(encoding="ascii").strip()
            secret = bytes.fromhex(text)
        except OSError as exc:
            raise LinkError(f"cannot read the customer-link secret {path}: {exc.strerror}") from None
        except ValueError:
            secret = b""
        if len(secret) < 32:
            raise LinkError(
                f"{path} is not a customer-link secret (64 hex digits): it is left as it is; "
                "move it aside to make a new one (every link made with it stops working)"
            )
        return cls(secret, scope)

    def _tag(self, body: bytes) -> bytes:
        message = b"journeychain/customer-link/2\0" + self._scope + b"\0" + body
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_TAG]

    def issue(self, journey: bytes, expires: int) -> str:
        """A token for the journey's page that works until `expires` (a Unix time)."""
        if len(journey) != 32:
            raise LinkError("a journey id is 32 bytes")
        body = bytes(journey) + struct.pack(">Q", expires)
        return base64.urlsafe_b64encode(body + self._tag(body)).decode("ascii").rstrip("=")

    def open(self, token: str, now: int) -> OpenedLink:
        """The journey a token opens at `now` (a Unix time); a token that is not one of this
        deployment's, or has expired, is refused with a sentence."""
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

    # -- the dashboard's sessions: a cookie once a viewer's token was shown ------------------

    def session(self, expires: int) -> str:
        """A dashboard session that works until `expires`: the cookie the login sets."""
        body = b"dashboard-session" + struct.pack(">Q", expires)
        return base64.urlsafe_b64encode(struct.pack(">Q", expires) + self._tag(body)).decode().rstrip("=")

    def session_valid(self, cookie: str, now: int) -> bool:
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        except (ValueError, TypeError):
            return False
        if len(raw) != 8 + _TAG:
            return False
        (expires,) = struct.unpack(">Q", raw[:8])
        body = b"dashboard-session" + raw[:8]
        return hmac.compare_digest(raw[8:], self._tag(body)) and now < expires
