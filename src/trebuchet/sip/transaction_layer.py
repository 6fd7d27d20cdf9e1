"""The transaction layer (RFC 3261 §17): matches messages to transactions and keeps their timers.

Sans-IO like the transactions it holds. The transport hands in every parsed message with its source;
out come actions: `Transmit` for the transport, `Deliver` for the transaction user (the UA core), and
`TimedOut`. What matches no transaction is delivered as it is, which is what the UA core needs for a new
request, for the ACK of a 2xx (it belongs to the dialog, §17.2.3) and for a stray 2xx retransmission
(which the UAC core ACKs again, §13.2.2.4).
"""

from __future__ import annotations

import heapq
import itertools

from .message import Request, Response
from .transaction import Action, Address, Deliver, Transaction, client_key, server_key


class TransactionLayer:
    """The transactions in progress, and a heap of their deadlines.

    A timer check must not cost a scan of every transaction: under load thousands linger in their
    absorbing states (Timers D, J, K). So each change to a transaction queues its next deadline on a heap,
    and an entry whose transaction has since moved on is simply skipped when it comes up.
    """

    def __init__(self) -> None:
        self.clients: dict[tuple[str, str], Transaction] = {}
        self.servers: dict[tuple[str, str, str], Transaction] = {}
        self._due: list[tuple[float, int, bool, tuple[str, ...]]] = []  # deadline, order, client?, key
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self.clients) + len(self.servers)

    def send_request(
        self, request: Request, destination: Address, now: float, *, reliable: bool = False
    ) -> list[Action]:
        """Start a client transaction (ACK for a 2xx is not a transaction: send that directly)."""
        if request.method == "ACK":
            raise ValueError("an ACK for a 2xx is sent by the dialog, not through a transaction")
        transaction, actions = Transaction.client(request, destination, now, reliable=reliable)
        key = client_key(request)
        self.clients[key] = transaction
        self._track(True, key, transaction)
        return actions

    def receive(
        self, message: Request | Response, source: Address, now: float, *, reliable: bool = False
    ) -> list[Action]:
        if isinstance(message, Response):
            ckey = client_key(message)
            client = self.clients.get(ckey)
            if client is None:
                return [Deliver(message)]
            actions = client.receive(message, now)
            self._track(True, ckey, client)
            return actions
        key = server_key(message)
        server = self.servers.get(key)
        if server is not None:
            actions = server.receive(message, now)
            self._track(False, key, server)
            return actions
        if message.method == "ACK":
            return [Deliver(message)]  # the ACK of a 2xx: for the dialog
        server = Transaction.server(message, source, now, reliable=reliable)
        self.servers[key] = server
        self._track(False, key, server)
        return [Deliver(message)]

    def respond(self, request: Request, response: Response, now: float) -> list[Action]:
        """Send `response` through the server transaction of `request`."""
        key = server_key(request)
        server = self.servers.get(key)
        if server is None:
            raise KeyError("no server transaction for this request (it has ended)")
        actions = server.respond(response, now)
        self._track(False, key, server)
        return actions

    def server_for(self, request: Request, method: str) -> Transaction | None:
        """The server transaction of `method` with the same branch and sent-by (CANCEL → its INVITE)."""
        branch, sent_by, _ = server_key(request)
        return self.servers.get((branch, sent_by, method))

    def fire_due(self, now: float) -> list[Action]:
        """Run due timers; a transaction leaves the layer when it terminates."""
        actions: list[Action] = []
        while self._due and self._due[0][0] <= now:
            _, _, is_client, key = heapq.heappop(self._due)
            transaction = self._table(is_client).get(key)
            if transaction is None:
                continue
            deadline = transaction.next_deadline()
            if deadline is None or deadline > now:  # moved on since: its newer entry is on the heap
                continue
            actions += transaction.fire_due(now)
            self._track(is_client, key, transaction)
        return actions

    def next_deadline(self) -> float | None:
        while self._due:
            deadline, _, is_client, key = self._due[0]
            transaction = self._table(is_client).get(key)
            if transaction is not None and transaction.next_deadline() == deadline:
                return deadline
            heapq.heappop(self._due)  # stale: the transaction ended or its timers changed
        return None

    def forget(self, request: Request) -> Transaction | None:
        """Drop the client transaction of `request` (its transport failed: RFC 3261 §17.1.4)."""
        return self.clients.pop(client_key(request), None)

    def _table(self, is_client: bool) -> dict:  # type: ignore[type-arg]
        return self.clients if is_client else self.servers

    def _track(self, is_client: bool, key: tuple[str, ...], transaction: Transaction) -> None:
        table = self._table(is_client)
        if transaction.terminated:
            if table.get(key) is transaction:
                del table[key]
            return
        deadline = transaction.next_deadline()
        if deadline is not None:
            heapq.heappush(self._due, (deadline, next(self._order), is_client, key))
