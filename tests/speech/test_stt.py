"""Speech to text: espeak-ng's English comes back as words, silence as nothing, off the event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trebuchet.media import SAMPLE_RATE
from trebuchet.media.wav import write_wav
from trebuchet.speech import SpeechUnavailable, Transcriber, speak
from trebuchet.speech.tts import VOICES

from .words import word_accuracy

SENTENCES = [
    "Thank you for calling. Please leave a message after the tone.",
    "Your appointment is confirmed for Tuesday morning.",
    "Please hold while we connect you with the next available agent.",
    "The weather today will be sunny and warm with a light breeze.",
    "Hello, this is a reminder that your package will arrive tomorrow.",
    "We could not find an account with that number, please try again.",
]
ENGLISH = [voice.name for voice in VOICES.values() if voice.home.startswith("en")]


def test_importing_speech_loads_no_model_library():
    code = (
        "import sys, trebuchet, trebuchet.speech; "
        "heavy = ('ctranslate2', 'faster_whisper', 'onnxruntime', 'av'); "
        "loaded = [name for name in heavy if name in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("voice", ENGLISH)
def test_round_trip_keeps_most_words(transcriber: Transcriber, voice: str):
    """Each English voice speaks every sentence at 8 kHz; Whisper tiny.en must hear >= 80% of the words
    over the set, and no sentence may be lost outright."""

    async def round_trip() -> list[str]:
        spoken = [await speak(sentence, voice=voice, gender=None, locale=None) for sentence in SENTENCES]
        return list(await asyncio.gather(*(transcriber.transcribe(samples) for samples in spoken)))

    heard = asyncio.run(round_trip())
    scores = [word_accuracy(sentence, text) for sentence, text in zip(SENTENCES, heard, strict=True)]
    total = sum(len(s.split()) * score for s, score in zip(SENTENCES, scores, strict=True))
    overall = total / sum(len(s.split()) for s in SENTENCES)
    report = "\n".join(f"{score:.2f} {text!r}" for score, text in zip(scores, heard, strict=True))
    print(f"{voice}: {overall:.2f}\n{report}")
    assert overall >= 0.8, report
    assert min(scores) >= 0.5, report


def test_silence_and_noise_give_no_words(transcriber: Transcriber):
    rng = np.random.default_rng(7)
    silence = np.zeros(5 * SAMPLE_RATE, np.int16)
    hiss = rng.normal(0, 200, 5 * SAMPLE_RATE).astype(np.int16)  # a quiet line
    nothing = np.zeros(0, np.int16)
    texts = [asyncio.run(transcriber.transcribe(samples)) for samples in (silence, hiss, nothing)]
    assert texts[0] == "" and texts[2] == ""
    assert len(texts[1].split()) <= 2, texts[1]


def test_a_wav_file_and_its_costs(transcriber: Transcriber, tmp_path: Path):
    sentence = SENTENCES[4]
    samples = asyncio.run(speak(sentence, voice="Kate", gender=None, locale=None))
    path = tmp_path / "message.wav"
    write_wav(path, samples)
    result = asyncio.run(transcriber.transcribe_detailed(path))
    assert word_accuracy(sentence, result.text) >= 0.8, result.text
    assert result.audio_seconds == pytest.approx(len(samples) / SAMPLE_RATE, abs=0.05)
    assert 0 < result.cpu_seconds < 10 * result.audio_seconds
    assert result.wall_seconds > 0


def test_in_a_thread_too():
    samples = asyncio.run(speak(SENTENCES[1], voice=None, gender=None, locale=None))

    async def run() -> str:
        async with Transcriber(executor="thread") as stt:
            return await stt.transcribe(samples)

    assert word_accuracy(SENTENCES[1], asyncio.run(run())) >= 0.8


def test_a_dead_worker_is_reported_and_replaced():
    samples = asyncio.run(speak(" ".join(SENTENCES), voice=None, gender=None, locale=None))

    async def run() -> tuple[BaseException | str, str]:
        stt = Transcriber()
        try:
            before = {process.pid for process in multiprocessing.active_children()}
            await stt.warm_up()
            (worker,) = [
                process for process in multiprocessing.active_children() if process.pid not in before
            ]
            job = asyncio.ensure_future(stt.transcribe(samples))
            await asyncio.sleep(0.2)
            os.kill(worker.pid, signal.SIGKILL)
            try:
                first: BaseException | str = await job
            except SpeechUnavailable as exc:
                first = exc
            return first, await stt.transcribe(samples)
        finally:
            await asyncio.to_thread(stt.close)

    first, second = asyncio.run(run())
    assert isinstance(first, SpeechUnavailable)
    assert word_accuracy(SENTENCES[0], second) >= 0.5
