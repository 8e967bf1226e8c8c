"""Subscriptions: where notifications go, and what became of each delivery."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from journeychain.errors import ConfigError, NotFoundError
from journeychain.service.auth import new_secret
from journeychain.service.deps import Caller, Running
from journeychain.service.notify import KINDS

router = APIRouter(tags=["notifications"])


class SubscriptionBody(BaseModel):
    url: str = Field(description="Where deliveries are POSTed (http or https).")
    events: list[str] = Field(description="The kinds wanted: " + ", ".join(KINDS) + ".")


def _public(sub: dict[str, Any]) -> dict[str, Any]:
    return {"id": sub["id"], "url": sub["url"], "events": sub["kinds"], "created_at": sub["created_at"]}


def _own(svc: Any, who: Any, sid: str) -> dict[str, Any]:
    sub = svc.store.subscription(sid)
    if sub is None or sub["integration"] != who.name:
        raise NotFoundError(f"there is no subscription {sid} of integration {who.name!r}")
    return dict(sub)


@router.post("/subscriptions", status_code=201, summary="Subscribe")
def subscribe(body: SubscriptionBody, svc: Running, who: Caller, response: Response) -> dict[str, Any]:
    """Subscribes a URL to notification kinds. The answer carries the secret that signs every
    delivery (Journey-Signature), once: keep it."""
    if not body.url.startswith(("http://", "https://")):
        raise ConfigError(f"url {body.url!r} is not an http or https URL")
    unknown = [k for k in body.events if k not in KINDS]
    if unknown or not body.events:
        raise ConfigError(f"events must name one or more of {', '.join(KINDS)}, not {unknown or 'none'}")
    secret = new_secret()
    sid = svc.store.add_subscription(who.name, body.url, list(dict.fromkeys(body.events)), secret)
    response.headers["Location"] = f"/subscriptions/{sid}"
    return _public(_own(svc, who, sid)) | {"secret": secret}


@router.get("/subscriptions", summary="Subscriptions")
def subscriptions(svc: Running, who: Caller) -> list[dict[str, Any]]:
    return [_public(s) for s in svc.store.subscriptions(who.name)]


@router.delete("/subscriptions/{sid}", status_code=204, summary="Unsubscribe")
def unsubscribe(sid: str, svc: Running, who: Caller) -> Response:
    _own(svc, who, sid)
    svc.store.remove_subscription(sid)
    return Response(status_code=204)


@router.get("/subscriptions/{sid}/deliveries", summary="Deliveries")
def deliveries(sid: str, svc: Running, who: Caller) -> list[dict[str, Any]]:
    """Every notification for the subscription: pending (with its attempts and last error),
    delivered or failed."""
    _own(svc, who, sid)
    return [
        {
            k: d[k]
            for k in (
                "id",
                "kind",
                "event_key",
                "payload",
                "state",
                "attempts",
                "last_error",
                "delivered_at",
                "created_at",
            )
        }
        for d in svc.store.deliveries(sid)
    ]
