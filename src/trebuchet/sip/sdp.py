"""SDP (RFC 4566) for audio calls, and the offer/answer rules (RFC 3264) Trebuchet needs.

We speak PCMU and PCMA at 8 kHz, plus telephone-event (RFC 4733) for DTMF. An answer keeps the offer's
m-lines in order, accepts the first audio stream with a codec in common (in the offerer's order of
preference), and rejects every other stream with port 0. Hold is an offer whose direction is sendonly or
inactive, or whose connection address is 0.0.0.0 (RFC 2543 style).
"""

from __future__ import annotations

from dataclasses import dataclass, field

STATIC_CODECS = {0: "PCMU", 8: "PCMA"}
SUPPORTED = ("PCMU", "PCMA")
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_REVERSED = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


class SdpError(ValueError):
    """Malformed SDP, or an offer with nothing we can accept (answered 488 Not Acceptable Here)."""


@dataclass
class Media:
    kind: str  # audio, video, …
    port: int
    proto: str  # RTP/AVP, …
    formats: list[str]
    connection: str | None = None  # the address of an m-level c= line
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    def attribute(self, name: str) -> str | None:
        return next((value for key, value in self.attributes if key == name), None)

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.attributes)

    @property
    def direction(self) -> str:
        return next((key for key, _ in self.attributes if key in DIRECTIONS), "sendrecv")

    def rtpmap(self) -> dict[int, tuple[str, int]]:
        """Payload type → (encoding name, clock rate), static types included."""
        mapping = {pt: (name, 8000) for pt, name in STATIC_CODECS.items()}
        for key, value in self.attributes:
            if key == "rtpmap" and value:
                pt_text, _, encoding = value.partition(" ")
                name, _, rest = encoding.strip().partition("/")
                rate = rest.partition("/")[0]
                if pt_text.isdigit() and rate.isdigit():
                    mapping[int(pt_text)] = (name, int(rate))
        return mapping


@dataclass
class Session:
    origin: str  # the o= line's value
    connection: str | None  # session-level c= address
    media: list[Media]
    name: str = "-"
    version: int = 0

    def to_bytes(self) -> bytes:
        lines = [f"v={self.version}", f"o={self.origin}", f"s={self.name}"]
        if self.connection:
            lines.append(f"c=IN IP{6 if ':' in self.connection else 4} {self.connection}")
        lines.append("t=0 0")
        for media in self.media:
            lines.append(f"m={media.kind} {media.port} {media.proto} {' '.join(media.formats)}")
            if media.connection:
                lines.append(f"c=IN IP{6 if ':' in media.connection else 4} {media.connection}")
            lines.extend(
                f"a={key}" if value is None else f"a={key}:{value}" for key, value in media.attributes
            )
        return ("\r\n".join(lines) + "\r\n").encode()


def parse_sdp(data: bytes | str) -> Session:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    origin, connection, name, version = None, None, "-", 0
    media: list[Media] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if len(line) < 2 or line[1] != "=":
            raise SdpError(f"not an SDP line: {line[:40]!r}")
        kind, value = line[0], line[2:]
        if kind == "v":
            if value != "0":
                raise SdpError(f"SDP version {value!r}, expected 0")
        elif kind == "o":
            origin = value
        elif kind == "s":
            name = value
        elif kind == "c":
            address = _connection_address(value)
            if media:
                media[-1].connection = address
            else:
                connection = address
        elif kind == "m":
            media.append(_media_line(value))
        elif kind == "a" and media:
            key, sep, attr_value = value.partition(":")
            media[-1].attributes.append((key, attr_value if sep else None))
    if origin is None:
        raise SdpError("no o= line")
    return Session(origin=origin, connection=connection, media=media, name=name, version=version)


def _connection_address(value: str) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"bad c= line: {value!r}")
    return parts[2].split("/")[0]


def _media_line(value: str) -> Media:
    parts = value.split()
    if len(parts) < 4 or not parts[1].split("/")[0].isdigit():
        raise SdpError(f"bad m= line: {value!r}")
    port = int(parts[1].split("/")[0])
    if port > 65535:
        raise SdpError(f"bad m= port: {port}")
    return Media(kind=parts[0], port=port, proto=parts[2], formats=parts[3:])


@dataclass(frozen=True)
class Negotiated:
    """What an accepted audio stream settled on."""

    payload_type: int
    codec: str  # PCMU or PCMA
    telephone_event: int | None  # payload type for RFC 4733, if both sides do it
    remote_address: str
    remote_port: int
    direction: str  # ours, as answered
    ptime: int = 20

    @property
    def on_hold(self) -> bool:
        return self.direction in ("recvonly", "inactive") or self.remote_address in ("0.0.0.0", "::")


def make_offer(
    address: str,
    port: int,
    *,
    session_id: int,
    version: int = 1,
    direction: str = "sendrecv",
    telephone_event: int = 101,
) -> Session:
    """Our offer: PCMU, PCMA and telephone-event on one audio stream."""
    attributes: list[tuple[str, str | None]] = [
        ("rtpmap", "0 PCMU/8000"),
        ("rtpmap", "8 PCMA/8000"),
        ("rtpmap", f"{telephone_event} telephone-event/8000"),
        ("fmtp", f"{telephone_event} 0-15"),
        ("ptime", "20"),
        (direction, None),
    ]
    media = Media("audio", port, "RTP/AVP", ["0", "8", str(telephone_event)], attributes=attributes)
    return Session(
        origin=_origin(session_id, version, address), connection=address, media=[media], name="Trebuchet"
    )


def answer(
    offer: Session, address: str, port: int, *, session_id: int, version: int = 1, prefer: str | None = None
) -> tuple[Session, Negotiated]:
    """Answer an offer (RFC 3264 §6): one audio stream accepted, every other m-line rejected with port 0.
    The codec is the offer's first we speak, or `prefer` (PCMU, PCMA) when the offer has it too."""
    answered: list[Media] = []
    chosen: Negotiated | None = None
    for media in offer.media:
        accepted = None if chosen else _accept(media, offer.connection, prefer)
        if accepted is None:
            answered.append(Media(media.kind, 0, media.proto, media.formats[:1]))
            continue
        chosen = accepted
        formats = [str(accepted.payload_type)]
        attributes: list[tuple[str, str | None]] = [
            ("rtpmap", f"{accepted.payload_type} {accepted.codec}/8000")
        ]
        if accepted.telephone_event is not None:
            formats.append(str(accepted.telephone_event))
            attributes += [
                ("rtpmap", f"{accepted.telephone_event} telephone-event/8000"),
                ("fmtp", f"{accepted.telephone_event} 0-15"),
            ]
        attributes += [("ptime", str(accepted.ptime)), (accepted.direction, None)]
        answered.append(Media("audio", port, media.proto, formats, attributes=attributes))
    if chosen is None:
        raise SdpError("no audio stream with PCMU or PCMA in the offer")
    return Session(origin=_origin(session_id, version, address), connection=address, media=answered), chosen


def accept_answer(offer: Session, answer_sdp: Session) -> Negotiated:
    """Read the far end's answer to our offer: the codec it chose and where to send."""
    for ours, theirs in zip(offer.media, answer_sdp.media, strict=False):
        if ours.kind == "audio" and theirs.port != 0:
            negotiated = _accept(theirs, answer_sdp.connection)
            if negotiated is not None:
                return negotiated
    raise SdpError("the answer accepted no audio stream we offered")


def _accept(media: Media, session_connection: str | None, prefer: str | None = None) -> Negotiated | None:
    if media.kind != "audio" or media.port == 0 or "RTP/AVP" not in media.proto:
        return None
    address = media.connection or session_connection
    if address is None:
        return None
    mapping = media.rtpmap()
    codec = None
    event = None
    for fmt in media.formats:
        if not fmt.isdigit():
            continue
        name, rate = mapping.get(int(fmt), ("", 0))
        usable = name.upper() in SUPPORTED and rate == 8000
        if usable and (codec is None or (name.upper() == prefer and codec[1] != prefer)):
            codec = (int(fmt), name.upper())
        if event is None and name.lower() == "telephone-event" and rate == 8000:
            event = int(fmt)
    if codec is None:
        return None
    ptime = media.attribute("ptime")
    return Negotiated(
        payload_type=codec[0],
        codec=codec[1],
        telephone_event=event,
        remote_address=address,
        remote_port=media.port,
        direction=_REVERSED[media.direction],
        ptime=int(ptime) if ptime and ptime.isdigit() else 20,
    )


def _origin(session_id: int, version: int, address: str) -> str:
    return f"trebuchet {session_id} {version} IN IP{6 if ':' in address else 4} {address}"
