"""`trebuchet serve`, `trebuchet users create|list|update`, `phone`, `call` and `demo`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from ..config import Settings
from ..domain.clock import iso
from ..store import users
from ..store.database import Database

T = TypeVar("T")
app = typer.Typer(help="Trebuchet: a self-hosted Catapult v1 voice platform.", no_args_is_help=True)
users_app = typer.Typer(help="Manage API users.", no_args_is_help=True)
app.add_typer(users_app, name="users")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar="TREBUCHET_DATA_DIR", help="Recordings, media, SQLite file"),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", envvar="TREBUCHET_DATABASE_URL", help="SQLAlchemy URL (default: SQLite in data dir)"
    ),
]

CallRate = Annotated[float | None, typer.Option("--call-rate", help="Calls per second (0: unlimited)")]
ApiRate = Annotated[
    int | None, typer.Option("--api-rate", help="Requests per second per endpoint (0: unlimited)")
]


@app.command()
def serve(
    http: Annotated[
        str | None, typer.Option("--http", envvar="TREBUCHET_HTTP_ADDR", help="HOST:PORT for the API")
    ] = None,
    sip: Annotated[
        str | None, typer.Option("--sip", envvar="TREBUCHET_SIP_ADDR", help="HOST:PORT for SIP")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    public_url: Annotated[
        str | None, typer.Option("--public-url", envvar="TREBUCHET_PUBLIC_URL", help="Base URL clients use")
    ] = None,
) -> None:
    """Start the server (SQLite under ./data and HTTP on 127.0.0.1:8080 unless told otherwise)."""
    from ..server import run

    run(
        Settings.from_env(
            http_addr=http, sip_addr=sip, data_dir=data_dir, database_url=database_url, public_url=public_url
        )
    )


def _database(data_dir: Path | None, database_url: str | None) -> Database:
    return Database(Settings.from_env(data_dir=data_dir, database_url=database_url).resolved_database_url)


async def _with_db(db: Database, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    try:
        await db.migrate()
        async with db.write() as conn:
            return await work(conn)
    finally:
        await db.dispose()


@users_app.command("create")
def users_create(
    as_json: Annotated[bool, typer.Option("--json", help="Print {userId, token, secret} as JSON")] = False,
    signing_secret: Annotated[
        str | None,
        typer.Option("--signing-secret", help="Sign callbacks with this secret (X-Trebuchet-Signature)"),
    ] = None,
    call_rate: CallRate = None,
    api_rate: ApiRate = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user. The secret is shown once: only its salted hash is stored."""

    async def work(conn: AsyncConnection) -> Any:
        return await users.create_user(
            conn, signing_secret=signing_secret, call_rate_limit=call_rate, api_rate_limit=api_rate
        )

    created = asyncio.run(_with_db(_database(data_dir, database_url), work))
    creds = {"userId": created.user.id, "token": created.user.token, "secret": created.secret}
    if as_json:
        typer.echo(json.dumps(creds))
    else:
        for key, value in creds.items():
            typer.echo(f"{key}: {value}")


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List users (never their secrets)."""
    found = asyncio.run(_with_db(_database(data_dir, database_url), users.list_users))
    if as_json:
        rows = [
            {
                "userId": u.id,
                "token": u.token,
                "createdTime": iso(u.created_time),
                "callRateLimit": u.call_rate_limit,
                "apiRateLimit": u.api_rate_limit,
                "signing": u.signing_secret is not None,
            }
            for u in found
        ]
        typer.echo(json.dumps(rows))
        return
    table = Table("userId", "token", "created", "call rate", "api rate", "signing")
    for user in found:
        table.add_row(
            user.id,
            user.token,
            iso(user.created_time) or "",
            "default" if user.call_rate_limit is None else f"{user.call_rate_limit:g}/s",
            "default" if user.api_rate_limit is None else f"{user.api_rate_limit}/s",
            "yes" if user.signing_secret else "no",
        )
    console = Console()
    if not console.is_terminal:  # piped: never wrap an id across lines
        console = Console(width=200)
    console.print(table)


@users_app.command("update")
def users_update(
    user_id: Annotated[str, typer.Argument(help="The user's id (u-…)")],
    signing_secret: Annotated[str | None, typer.Option("--signing-secret", help="'' removes it")] = None,
    call_rate: CallRate = None,
    api_rate: ApiRate = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a user's limits or callback signing secret (a running server sees it within seconds)."""
    values: dict[str, object] = {}
    if signing_secret is not None:
        values["signing_secret"] = signing_secret or None
    if call_rate is not None:
        values["call_rate_limit"] = call_rate
    if api_rate is not None:
        values["api_rate_limit"] = api_rate
    if not values:
        raise typer.BadParameter("nothing to change: give --signing-secret, --call-rate or --api-rate")

    async def work(conn: AsyncConnection) -> Any:
        return await users.update_user(conn, user_id, **values)

    if not asyncio.run(_with_db(_database(data_dir, database_url), work)):
        typer.echo(f"no user {user_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"updated {user_id}")


@app.command()
def phone(
    sip: Annotated[str, typer.Option("--sip", help="HOST:PORT to listen on")] = "127.0.0.1:5062",
    dial: Annotated[
        str | None, typer.Option("--dial", help="Call this sip: URI (else wait for calls)")
    ] = None,
    from_uri: Annotated[str, typer.Option("--from", help="From URI when dialling")] = "sip:phone@127.0.0.1",
    header: Annotated[list[str] | None, typer.Option("--header", help="'X-Name: value' (repeatable)")] = None,
    answer_after: Annotated[float, typer.Option("--answer-after", help="Seconds to ring first")] = 0.0,
    reject: Annotated[int | None, typer.Option("--reject", help="Refuse calls with this status")] = None,
    play: Annotated[Path | None, typer.Option("--play", help="WAV file to play once answered")] = None,
    tone: Annotated[float | None, typer.Option("--tone", help="Play a sine tone of HZ")] = None,
    record: Annotated[Path | None, typer.Option("--record", help="Record what is heard to this WAV")] = None,
    dtmf: Annotated[str | None, typer.Option("--dtmf", help="Digits to send after answer (RFC 4733)")] = None,
    hangup_after: Annotated[
        float | None, typer.Option("--hangup-after", help="Hang up after SECONDS")
    ] = None,
    register: Annotated[str | None, typer.Option("--register", help="Registrar sip: URI")] = None,
    user: Annotated[str | None, typer.Option("--user", help="User for REGISTER and Digest")] = None,
    password: Annotated[str | None, typer.Option("--password", help="Password for Digest")] = None,
    count: Annotated[int, typer.Option("--count", help="Handle N calls, then exit")] = 1,
    rtp_ports: Annotated[
        str | None, typer.Option("--rtp-ports", help="LOW-HIGH range for RTP (default: any free ports)")
    ] = None,
    codec: Annotated[
        str | None, typer.Option("--codec", help="Answer with PCMU or PCMA when offered (default: the first)")
    ] = None,
) -> None:
    """A SIP phone on Trebuchet's stack; prints each event as a JSON line."""
    from ..config import split_addr
    from ..media.ports import PortRange
    from .phone import PhoneOptions, run_phone

    if codec is not None and codec.upper() not in ("PCMU", "PCMA"):
        raise typer.BadParameter(f"--codec is PCMU or PCMA, not {codec!r}")
    headers = []
    for item in header or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise typer.BadParameter(f"--header needs 'Name: value', got {item!r}")
        headers.append((name.strip(), value.strip()))
    options = PhoneOptions(
        sip=split_addr(sip, 5062),
        dial=dial,
        from_uri=from_uri,
        headers=headers,
        answer_after=answer_after,
        reject=reject,
        play=play,
        tone=tone,
        record=record,
        dtmf=dtmf,
        hangup_after=hangup_after,
        register=register,
        user=user,
        password=password,
        count=count,
        rtp_ports=PortRange.parse(rtp_ports) if rtp_ports else None,
        codec=codec.upper() if codec else None,
    )
    raise typer.Exit(run_phone(options))


@app.command()
def call(
    to: Annotated[str, typer.Argument(help="Who to call: sip:user@host[:port] or an E.164 number")],
    from_number: Annotated[str, typer.Option("--from", help="The call's `from` (E.164)")] = "+19195551212",
    api: Annotated[
        str, typer.Option("--api", envvar="TREBUCHET_API_URL", help="Base URL of the Trebuchet API")
    ] = "http://127.0.0.1:8080",
    credentials: Annotated[
        Path | None,
        typer.Option(
            "--credentials",
            envvar="TREBUCHET_CREDENTIALS",
            help="JSON with userId, token, secret (default: <data dir>/credentials.json, as serve saves it)",
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", envvar="TREBUCHET_USER_ID", help="userId")] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="TREBUCHET_TOKEN", help="API token")] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", envvar="TREBUCHET_SECRET", help="API secret")
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="SIP header X-Name=value (repeatable)")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="The call's tag, echoed in its events")] = None,
    call_timeout: Annotated[
        int | None, typer.Option("--call-timeout", help="Seconds to ring before `timeout`")
    ] = None,
    hangup_after: Annotated[
        float | None, typer.Option("--hangup-after", help="Hang up through the API SECONDS after answer")
    ] = None,
    max_wait: Annotated[
        float, typer.Option("--max-wait", help="Give up (and hang up) after SECONDS in all")
    ] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print each event as a JSON line")] = False,
) -> None:
    """Place a call through the REST API and print its callback events as they arrive."""
    from .call import CallError, CallRequest, EventView, load_credentials, parse_headers, run_call

    view = EventView(as_json=as_json)
    try:
        creds = load_credentials(credentials, user, token, secret)
        request = CallRequest(to, from_number, tag, call_timeout, parse_headers(header or []))
    except CallError as error:
        view.fail(str(error))
        raise typer.Exit(1) from None
    raise typer.Exit(run_call(api, creds, request, view, hangup_after=hangup_after, max_wait=max_wait))


@app.command()
def demo(
    seconds: Annotated[float, typer.Option("--seconds", help="Hang up this long after answer")] = 3.0,
    tone: Annotated[float, typer.Option("--tone", help="The phone plays a tone of HZ")] = 440.0,
) -> None:
    """A whole call on this machine: a throwaway server, a phone to ring, a call placed, every event shown."""
    from .demo import run_demo

    raise typer.Exit(run_demo(seconds=seconds, tone=tone))


def main() -> None:
    app()
