"""Where an outbound call goes: a `sip:` URI straight to its host, an E.164 number through the trunk.

Pure decisions, no sockets. A destination the server may not or cannot reach is a `NoRoute` with the
hangup cause and a message for the user's `/errors`, so a call to it fails at once instead of hanging.

Trebuchet does no DNS for SIP yet (RFC 3263 NAPTR/SRV lookups are a later step), so hosts are IP
literals or `localhost`. Every destination must also sit inside `TREBUCHET_SIP_DESTINATIONS` (CIDR
networks, loopback by default): a self-hosted server should not start ringing the internet because a
request said so, and an operator widens the list deliberately.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from ..domain import causes
from ..domain.addresses import is_e164
from ..sip.uri import ParseError, SipUri, parse_uri

LOOPBACK_ONLY = "127.0.0.0/8,::1/128"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Route:
    """The Request-URI to INVITE (its host, port and transport say where it goes) and trunk credentials."""

    uri: str
    credentials: tuple[str, str] | None = None
    via_trunk: bool = False


class NoRoute(Exception):
    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message


@dataclass(frozen=True)
class RoutingPolicy:
    trunk_uri: str | None = None
    trunk_user: str | None = None
    trunk_password: str | None = None
    destinations: tuple[Network, ...] = ()

    @classmethod
    def build(
        cls,
        trunk_uri: str | None,
        trunk_user: str | None,
        trunk_password: str | None,
        destinations: str = LOOPBACK_ONLY,
    ) -> RoutingPolicy:
        """Check the settings once at start, so a typo stops the server rather than every call."""
        networks = tuple(ipaddress.ip_network(part.strip(), strict=False) for part in destinations.split(","))
        if trunk_uri:
            trunk = _sip_uri(trunk_uri)
            if trunk is None:
                raise ValueError(f"TREBUCHET_TRUNK_URI {trunk_uri!r} is not a sip: URI")
        return cls(trunk_uri or None, trunk_user or None, trunk_password, networks)

    def route(self, to: str) -> Route:
        """The route for a call's `to` (already validated as E.164 or a sip: URI), or NoRoute."""
        if is_e164(to):
            return self._via_trunk(to)
        uri = _sip_uri(to)
        if uri is None:
            raise NoRoute(causes.INVALID_NUMBER_FORMAT, f"{to} is not a SIP URI Trebuchet can call")
        self._check_host(uri, to)
        return Route(str(uri))

    def _via_trunk(self, number: str) -> Route:
        if not self.trunk_uri:
            raise NoRoute(
                causes.NO_ROUTE_DESTINATION,
                f"No SIP trunk is configured for the number {number}: set TREBUCHET_TRUNK_URI",
            )
        trunk = _sip_uri(self.trunk_uri)
        assert trunk is not None  # checked in build()
        uri = replace(trunk, user=number, password=None)
        self._check_host(uri, number)
        credentials = (self.trunk_user, self.trunk_password or "") if self.trunk_user else None
        return Route(str(uri), credentials, via_trunk=True)

    def _check_host(self, uri: SipUri, to: str) -> None:
        host = (uri.param("maddr") or uri.host).strip("[]")
        if host.lower() == "localhost":
            host = "127.0.0.1"
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise NoRoute(
                causes.NO_ROUTE_DESTINATION,
                f"{to}: SIP hosts must be IP addresses (Trebuchet does not resolve {host} yet)",
            ) from None
        if not any(address in network for network in self.destinations):
            raise NoRoute(
                causes.NO_ROUTE_DESTINATION,
                f"{to}: {address} is outside TREBUCHET_SIP_DESTINATIONS",
            )


def _sip_uri(text: str) -> SipUri | None:
    try:
        uri = parse_uri(text)
    except (ParseError, ValueError):
        return None
    if not isinstance(uri, SipUri) or uri.secure:
        return None
    return uri


def localhost_as_ip(uri: str) -> str:
    """`sip:bob@localhost:5070` → `sip:bob@127.0.0.1:5070`: the transport needs an address, not a name."""
    parsed = _sip_uri(uri)
    if parsed is None or parsed.host.lower() != "localhost":
        return uri
    return str(replace(parsed, host="127.0.0.1"))
