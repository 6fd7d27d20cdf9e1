"""The ASGI app: routers, error handlers, and the lifespan that owns storage, engine and dispatcher."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .. import __version__
from ..config import Settings, split_addr
from ..domain import causes
from ..engine.calls import CallService
from ..engine.routing import RoutingPolicy
from ..engine.sip_engine import SipEngine
from ..events.dispatcher import Dispatcher
from ..media.ports import PortRange
from ..store.database import Database
from .auth import Authenticator
from .errors import install_error_handlers
from .metrics import MetricsMiddleware
from .metrics import router as metrics_router
from .ratelimit import RateLimits
from .routes import (
    applications,
    bridges,
    calls,
    conferences,
    errors,
    gathers,
    health,
    media,
    phone_numbers,
    recordings,
    transcriptions,
)
from .schemas import REQUEST_MODELS

log = logging.getLogger("trebuchet")


async def _recover(service: CallService, left_live: list[str]) -> None:
    try:
        await service.close_calls(left_live, causes.CRASH_RECOVERY)
        if settled := await service.transcriptions.recover():
            log.warning("%d transcription(s) cut short by an earlier run ended in error", settled)
    except Exception:  # the server stays up; the next start tries again
        log.exception("closing calls and transcriptions left by an earlier run failed")


def _build_engine(settings: Settings, service: CallService) -> SipEngine:
    """The SIP engine on TREBUCHET_SIP_ADDR (UDP and TCP), RTP from TREBUCHET_RTP_PORTS."""
    host, port = split_addr(settings.sip_addr, 5060)
    routing = RoutingPolicy.build(
        settings.trunk_uri, settings.trunk_user, settings.trunk_password, settings.sip_destinations
    )
    return SipEngine(
        service,
        host=host,
        port=port,
        rtp_ports=PortRange.parse(settings.rtp_ports),
        routing=routing,
        media_timeout=settings.media_timeout,
    )


def create_app(settings: Settings) -> FastAPI:
    db = Database(settings.resolved_database_url)
    dispatcher = Dispatcher(db, concurrency=settings.callback_concurrency)
    service = CallService(
        db,
        public_url=settings.event_base_url,
        on_events=dispatcher.wake,
        enforce_caller_id=settings.enforce_caller_id,
        node=settings.node,
        data_dir=settings.data_dir,
    )
    engine = _build_engine(settings, service)
    service.signalling = engine

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.migrate()
        # SIP first: closing an earlier run's answered calls sends BYEs from their stored dialogs.
        address = await engine.start()
        log.info("SIP listening on %s:%s (UDP and TCP)", *address)
        # Calls an earlier run left live are closed in the background, so the API is up at once.
        left_live = await service.live_call_ids()
        if left_live:
            log.warning("closing %d call(s) left live by an earlier run", len(left_live))
        recovery = asyncio.create_task(_recover(service, left_live))
        dispatcher.start()
        # What start-up loaded (modules, tables, the app) lives as long as the process: out of the
        # collector's sight, a full collection no longer walks it (27 ms on this machine, bench/README).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await recovery
            # Hang up on the wire first (BYE/CANCEL), with the hangup events; then close the sockets.
            ended = await service.close_calls(await service.live_call_ids(), causes.SYSTEM_SHUTDOWN)
            if ended:
                log.info("hung up %d live call(s) at shutdown", ended)
            await service.transfers.close()
            await service.conferences.close()
            await engine.stop()
            await service.audio.close()
            # Transcriptions cut short end in error, their events written before the dispatcher stops.
            await service.transcriptions.close()
            await dispatcher.stop()
            await db.dispose()

    app = FastAPI(
        title="Trebuchet",
        version=__version__,
        description="A self-hosted voice platform speaking the Bandwidth Catapult v1 Voice API.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.dispatcher = dispatcher
    app.state.calls = service
    app.state.engine = engine
    app.state.auth = Authenticator()
    app.state.limits = RateLimits(call_rate=settings.call_rate_limit, api_rate=settings.api_rate_limit)
    install_error_handlers(app)
    for router in (
        health.router,
        metrics_router,
        calls.router,
        bridges.router,
        conferences.router,
        gathers.router,
        errors.router,
        applications.router,
        phone_numbers.router,
        media.router,
        recordings.router,
        transcriptions.router,
    ):
        app.include_router(router)
    app.add_middleware(MetricsMiddleware)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in REQUEST_MODELS:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
            components.update(model_schema.pop("$defs", {}))
            components[model.__name__] = model_schema
        schema["components"]["securitySchemes"] = {"basic": {"type": "http", "scheme": "basic"}}
        schema["security"] = [{"basic": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
