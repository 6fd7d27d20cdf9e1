"""A UAS on Trebuchet's SIP stack that answers every call at once (no media): bench/sip.py's callee.

.venv/bin/python -m bench.sip_uas --port 5070
"""

from __future__ import annotations

import argparse
import asyncio

import uvloop

from trebuchet.sip.call import Call
from trebuchet.sip.useragent import UserAgent

SDP = b"v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"


async def serve(port: int) -> None:
    def answer(call: Call) -> None:
        call.answer(SDP)

    agent = UserAgent(port=port, on_incoming=answer)
    await agent.start()
    print(f"ready {agent.port}", flush=True)
    await asyncio.Event().wait()  # until the benchmark kills us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
