"""Who calls the service: an integration's API token, or its webhook signature.

A token is 32 random bytes (`jc_` and 43 URL-safe characters), shown once when the integration
is added and kept only as its SHA-256. A webhook may instead be signed with the integration's
HMAC secret, the way Stripe signs its own:

    Journey-Integration: hubspot
    Journey-Signature: t=1767225600,v1=<hex HMAC-SHA256(secret, "{t}.{METHOD}.{path}.{body}")>

It is refused when its timestamp is more than five minutes from the service's clock (stale), or
when the same signature was accepted before (replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from journeychain.errors import AuthenticationError, PermissionRefusedError
from journeychain.service.store import Integration, Store

TOKEN_PREFIX = "jc_"
SECRET_PREFIX = "jcs_"
#: How far a signed webhook's timestamp may be from the service's clock, in seconds.
TOLERANCE = 300
SIGNATURE_HEADER = "Journey-Signature"
INTEGRATION_HEADER = "Journey-Integration"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, timestamp: int, message: bytes) -> str:
    """The v1 signature: hex HMAC-SHA256 of "{timestamp}." + message under the secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + message, hashlib.sha256).hexdigest()


def webhook_message(method: str, path: str, body: bytes) -> bytes:
    """What a signed webhook signs besides its timestamp: its method, path and body."""
    return f"{method.upper()}.{path}.".encode() + body


def signature_header(secret: str, message: bytes, timestamp: int | None = None) -> str:
    """A `Journey-Signature` value for `message` (what a caller, or the service's own
    notifications, send)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={sign(secret, t, message)}"


def parse_signature(header: str) -> tuple[int, list[str]]:
    """The timestamp and v1 signatures of a `Journey-Signature` header."""
    stamp: int | None = None
    found: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            stamp = int(value)
        elif key == "v1" and value:
            found.append(value)
    if stamp is None or not found:
        raise AuthenticationError(
            f"the {SIGNATURE_HEADER} header must read t=TIMESTAMP,v1=SIGNATURE (the HMAC-SHA256 of "
            "'TIMESTAMP.METHOD.PATH.BODY' under the integration's secret)"
        )
    return stamp, found


def verify_signature(
    header: str, secret: str, message: bytes, tolerance: int = TOLERANCE, at: float | None = None
) -> str:
    """Checks a signature header over `message`; returns the signature that matched. Refuses a
    malformed, stale or wrong one (AuthenticationError)."""
    stamp, candidates = parse_signature(header)
    clock = time.time() if at is None else at
    if abs(clock - stamp) > tolerance:
        raise AuthenticationError(
            f"the webhook's signature is stale: signed at {stamp}, {int(abs(clock - stamp))} s from the "
            f"service's clock, and {tolerance} s are allowed; sign it again"
        )
    expected = sign(secret, stamp, message)
    for candidate in candidates:
        if hmac.compare_digest(candidate, expected):
            return candidate
    raise AuthenticationError(
        "the webhook's signature does not match its body under the integration's secret"
    )


def by_token(store: Store, authorization: str | None) -> Integration:
    """The integration whose token an `Authorization: Bearer ...` header carries."""
    if not authorization:
        raise AuthenticationError(
            "no credentials: send Authorization: Bearer TOKEN (from `journey serve token add`) "
            f"or a signed webhook ({SIGNATURE_HEADER})"
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header must read Bearer TOKEN")
    found = store.integration_by_token(token_hash(token.strip()))
    if found is None:
        raise AuthenticationError("this API token is unknown or was removed: ask for a new one")
    return found


def by_signature(
    store: Store, name: str | None, header: str, message: bytes, tolerance: int = TOLERANCE
) -> Integration:
    """The integration that signed a webhook, once its signature is checked and seen for the
    first time."""
    if not name:
        raise AuthenticationError(
            f"a signed webhook names its integration in the {INTEGRATION_HEADER} header"
        )
    found = store.integration(name)
    if found is None or not found.hmac_secret:
        raise AuthenticationError(f"integration {name!r} has no webhook secret: it cannot sign webhooks")
    matched = verify_signature(header, found.hmac_secret, message, tolerance)
    if not store.first_sighting(matched, tolerance):
        raise AuthenticationError(
            "this webhook's signature was accepted before: a signed webhook is taken once (sign a retry anew)"
        )
    return found


def acting_account(integration: Integration, wanted: str | None) -> str:
    """The address an integration acts as: the one it names (an address or an account name it
    was bound with), or its only one."""
    accounts = integration.accounts
    if wanted is None:
        if len(accounts) == 1:
            return accounts[0]["address"]
        names = ", ".join(a["name"] for a in accounts)
        raise PermissionRefusedError(
            f"integration {integration.name!r} acts as several accounts ({names}): name one in 'as'"
        )
    for account in accounts:
        if wanted.lower() in (account["address"].lower(), account["name"].lower()):
            return account["address"]
    allowed = ", ".join(f"{a['name']} ({a['address']})" for a in accounts)
    raise PermissionRefusedError(
        f"integration {integration.name!r} may act only as {allowed}, not as {wanted}"
    )
