"""`GET /healthz`: is the process up and can it reach its database (for load balancers and humans)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ... import __version__
from ...store import outbox
from ..common import json_response
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Liveness and database reachability",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database cannot be reached"}},
)
async def healthz(request: Request) -> Response:
    try:
        async with request.app.state.db.read() as conn:
            pending = await outbox.pending_count(conn)
    except Exception:
        body = {"status": "degraded", "database": "unreachable", "version": __version__}
        return json_response(body, status_code=503)
    return json_response(
        {"status": "ok", "database": "ok", "pendingCallbacks": pending, "version": __version__}
    )
