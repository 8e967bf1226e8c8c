"""What every route needs: the running service, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from journeychain.service import auth
from journeychain.service.service import Service
from journeychain.service.store import Integration


def service(request: Request) -> Service:
    running: Service = request.app.state.service
    return running


async def caller(
    request: Request,
    svc: Annotated[Service, Depends(service)],
    authorization: Annotated[str | None, Header()] = None,
    journey_signature: Annotated[str | None, Header()] = None,
    journey_integration: Annotated[str | None, Header()] = None,
) -> Integration:
    """The integration calling: by its bearer token, or by its webhook signature over the
    request's method, path and body."""
    if journey_signature and not authorization:
        body = await request.body()
        message = auth.webhook_message(request.method, request.url.path, body)
        return auth.by_signature(
            svc.store, journey_integration, journey_signature, message, svc.settings.tolerance
        )
    return auth.by_token(svc.store, authorization)


Caller = Annotated[Integration, Depends(caller)]
Running = Annotated[Service, Depends(service)]
