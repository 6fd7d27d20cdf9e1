"""Request metrics as a plain ASGI middleware (no per-request objects beyond a timer), and GET /metrics."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..metrics import ENGINE_LIVE, HTTP_REQUESTS, HTTP_SECONDS, OUTBOX_PENDING, REGISTRY
from ..store import outbox


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], template, str(status)).inc()
            HTTP_SECONDS.labels(template).observe(time.perf_counter() - began)


router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    async with request.app.state.db.read() as conn:
        OUTBOX_PENDING.set(await outbox.pending_count(conn))
    engine = getattr(request.app.state, "engine", None)
    if engine is not None:
        for kind, value in asdict(engine.counts()).items():
            ENGINE_LIVE.labels(kind).set(value)
    service = getattr(request.app.state, "calls", None)
    if service is not None:
        ENGINE_LIVE.labels("transcriptions").set(service.transcriptions.live_tasks)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
