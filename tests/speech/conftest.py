"""One transcriber for the speech tests: its worker process and model load are paid once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trebuchet.speech import Transcriber


@pytest.fixture(scope="session")
def transcriber() -> Iterator[Transcriber]:
    stt = Transcriber()
    try:
        yield stt
    finally:
        stt.close()
