"""The transaction layer (RFC 3261 §17): matches messages to transactions and keeps their timers.

Sans-IO like the transactions it holds. The transport hands in every parsed message with its source;
out come actions: `Transmit` for the transport, `Deliver` for the transaction user (the UA core), and
`TimedOut`. What matches no transaction is delivered as it is, which is what the UA core needs for a new
request, for the ACK of a 2xx (it belongs to the dialog, §17.2.3) and for a stray 2xx retransmission
(which the UAC core ACKs again, §13.2.2.4).
"""

from __future__ import annotations

from .message import Request, Response
from .transaction import Action, Address, Deliver, Transaction, client_key, server_key


class TransactionLayer:
    def __init__(self) -> None:
        self.clients: dict[tuple[str, str], Transaction] = {}
        self.servers: dict[tuple[str, str, str], Transaction] = {}

    def __len__(self) -> int:
        return len(self.clients) + len(self.servers)

    def send_request(
        self, request: Request, destination: Address, now: float, *, reliable: bool = False
    ) -> list[Action]:
        """Start a client transaction (ACK for a 2xx is not a transaction: send that directly)."""
        if request.method == "ACK":
            raise ValueError("an ACK for a 2xx is sent by the dialog, not through a transaction")
        transaction, actions = Transaction.client(request, destination, now, reliable=reliable)
        self.clients[client_key(request)] = transaction
        return actions

    def receive(
        self, message: Request | Response, source: Address, now: float, *, reliable: bool = False
    ) -> list[Action]:
        if isinstance(message, Response):
            client = self.clients.get(client_key(message))
            return client.receive(message, now) if client else [Deliver(message)]
        key = server_key(message)
        server = self.servers.get(key)
        if server is not None:
            return server.receive(message, now)
        if message.method == "ACK":
            return [Deliver(message)]  # the ACK of a 2xx: for the dialog
        self.servers[key] = Transaction.server(message, source, now, reliable=reliable)
        return [Deliver(message)]

    def respond(self, request: Request, response: Response, now: float) -> list[Action]:
        """Send `response` through the server transaction of `request`."""
        server = self.servers.get(server_key(request))
        if server is None:
            raise KeyError("no server transaction for this request (it has ended)")
        return server.respond(response, now)

    def server_for(self, request: Request, method: str) -> Transaction | None:
        """The server transaction of `method` with the same branch and sent-by (CANCEL → its INVITE)."""
        branch, sent_by, _ = server_key(request)
        return self.servers.get((branch, sent_by, method))

    def fire_due(self, now: float) -> list[Action]:
        """Run due timers; a transaction leaves the layer here, when its last timer ends it."""
        actions: list[Action] = []
        for table in (self.clients, self.servers):
            for key, transaction in list(table.items()):
                deadline = transaction.next_deadline()
                if deadline is not None and deadline <= now:
                    actions += transaction.fire_due(now)
                if transaction.terminated:
                    del table[key]  # type: ignore[arg-type]
        return actions

    def next_deadline(self) -> float | None:
        deadlines = [t.next_deadline() for table in (self.clients, self.servers) for t in table.values()]
        return min((d for d in deadlines if d is not None), default=None)
