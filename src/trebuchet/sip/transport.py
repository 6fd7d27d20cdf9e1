"""SIP over UDP and TCP on one address: the asyncio edge of the SIP stack.

Bytes come in, become messages through `parse` (datagrams) or the stream framer (TCP), and go to one
handler with their source and transport. A request that does not parse gets a stateless 400 when it
can be routed back; anything else broken is counted and dropped, never raised into the event loop.
Replies on TCP reuse the connection the request came on (RFC 3261 §18.2.2); new TCP destinations get a
connection of their own, opened on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ParseError
from .framing import FramingError, StreamFramer, bad_request_reply
from .message import Request, Response
from .parser import parse

log = logging.getLogger("trebuchet.sip")

Address = tuple[str, int]
Handler = Callable[[Request | Response, Address, str], None]
FailureHandler = Callable[[Request | Response, Address], None]
RECEIVE_BUFFER = 4 * 1024 * 1024  # the default ~208 KB drops datagrams under load


@dataclass
class TransportStats:
    received: int = 0
    sent: int = 0
    malformed: int = 0
    rejected: int = 0  # malformed requests answered 400


class SipTransports:
    def __init__(self, on_message: Handler, on_failure: FailureHandler | None = None) -> None:
        self.on_message = on_message
        # A message that could not be sent (TCP connect refused): RFC 3261 §8.1.3.1 treats it as a 503.
        self.on_failure = on_failure
        self.stats = TransportStats()
        self.local: Address = ("127.0.0.1", 0)
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.Server | None = None
        self._connections: dict[Address, _TcpConnection] = {}
        self._pending: dict[Address, asyncio.Task[_TcpConnection]] = {}

    async def start(self, host: str, port: int) -> Address:
        """Listen on UDP and TCP at host:port. Port 0 picks one free for both: the port the system gives
        the UDP socket may already be held by a TCP socket, and then another is tried."""
        for _ in range(20 if port == 0 else 1):
            try:
                return await self._bind(host, port)
            except OSError:
                if port != 0:
                    raise
                if self._udp is not None:
                    self._udp.close()
                    self._udp = None
        raise OSError(f"no port on {host} is free for both UDP and TCP")

    async def _bind(self, host: str, port: int) -> Address:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=sock)
        self.local = sock.getsockname()[:2]
        self._tcp_server = await loop.create_server(
            lambda: _TcpConnection(self), host=self.local[0], port=self.local[1], reuse_address=True
        )
        return self.local

    def send(self, message: Request | Response, destination: Address, transport: str = "udp") -> None:
        data = message.to_bytes()
        self.stats.sent += 1
        if transport.lower() != "tcp":
            if self._udp is not None:
                self._udp.sendto(data, destination)
            return
        connection = self._connections.get(destination)
        if connection is not None:
            connection.write(data)
            return
        task = self._pending.get(destination)
        if task is None:
            task = asyncio.create_task(self._connect(destination))
            self._pending[destination] = task
        task.add_done_callback(lambda done: self._connected(done, message, destination, data))

    def _connected(
        self,
        done: asyncio.Task[_TcpConnection],
        message: Request | Response,
        destination: Address,
        data: bytes,
    ) -> None:
        error = None if done.cancelled() else done.exception()
        if error is None and not done.cancelled():
            done.result().write(data)
            return
        log.info("SIP over TCP to %s:%s failed: %s", *destination, error)
        if self.on_failure is not None:
            self.on_failure(message, destination)

    async def _connect(self, destination: Address) -> _TcpConnection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(lambda: _TcpConnection(self), *destination)
        finally:
            self._pending.pop(destination, None)
        return connection

    def _received(self, data: bytes, source: Address, transport: str, reply: Callable[[bytes], None]) -> None:
        try:
            message = parse(data)
        except ParseError as error:
            self.stats.malformed += 1
            answer = bad_request_reply(data, error.reason)
            if answer is not None:
                self.stats.rejected += 1
                reply(answer)
            log.info("malformed SIP from %s:%s over %s: %s", *source, transport, error.reason)
            return
        self.stats.received += 1
        try:
            self.on_message(message, source, transport)
        except Exception:  # a handler bug must not take the transport down
            log.exception("SIP handler failed on a message from %s:%s", *source)

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp_server is not None:
            self._tcp_server.close()
            with contextlib.suppress(Exception):
                await self._tcp_server.wait_closed()
        for connection in list(self._connections.values()):
            connection.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransports) -> None:
        self.owner = owner
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if data.strip(b"\r\n") == b"":
            return  # a keep-alive
        source = addr[:2]
        self.owner._received(
            data, source, "udp", lambda reply: self.transport and self.transport.sendto(reply, addr)
        )


class _TcpConnection(asyncio.Protocol):
    def __init__(self, owner: SipTransports) -> None:
        self.owner = owner
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peer = transport.get_extra_info("peername")[:2]
        self.owner._connections[self.peer] = self

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.framer.feed(data)
        except FramingError as error:
            self.owner.stats.malformed += 1
            log.info("closing TCP from %s:%s: %s", *self.peer, error)
            self.close()
            return
        while self.framer.pings:
            self.framer.pings -= 1
            self.write(b"\r\n")
        for raw in messages:
            self.owner._received(raw, self.peer, "tcp", self.write)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.owner._connections.get(self.peer) is self:
            del self.owner._connections[self.peer]
