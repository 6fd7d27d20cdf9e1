"""Speech: what transcription (Whisper tiny.en, int8, CPU) and text to speech (espeak-ng) cost per second
of audio.

The audio is made in the same run: prompts spoken by speak() in several English voices, at 8 kHz like a
call's recording, single prompts (3-4 s) and a voicemail-like clip of all of them (about 20 s). Each clip
is transcribed by a Transcriber (its worker process, model loaded beforehand) with 1 and 2 ctranslate2
threads. The baseline is the audio's own length: CPU s per audio s is what one second of recording costs
the machine, wall s per audio s (the real-time factor) how long a caller waits for the text.
Word accuracy against the sentences spoken is printed alongside, as a check that the work was real.

    .venv/bin/python -m bench.speech                 # under a minute
    .venv/bin/python -m bench.speech --threads 1 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from dataclasses import dataclass

import numpy as np
from tests.speech.words import word_accuracy

from trebuchet.media import SAMPLE_RATE
from trebuchet.speech import Transcriber, speak

SENTENCES = [
    "Thank you for calling. Please leave a message after the tone.",
    "Your appointment is confirmed for Tuesday morning.",
    "Please hold while we connect you with the next available agent.",
    "The weather today will be sunny and warm with a light breeze.",
    "Hello, this is a reminder that your package will arrive tomorrow.",
    "We could not find an account with that number, please try again.",
]
VOICES = ["Susan", "Kate", "Paul", "Bridget"]


@dataclass
class Clip:
    text: str
    voice: str
    samples: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def make_clips() -> tuple[list[Clip], float, float]:
    """The clips, and the CPU seconds (espeak-ng processes plus resampling here) and wall seconds it took."""
    cpu, own, wall = children_cpu(), time.process_time(), time.perf_counter()
    clips = []
    for index, voice in enumerate(VOICES):
        for sentence in SENTENCES[index % 2 :: 2]:  # half the prompts per voice, each prompt by two voices
            clips.append(Clip(sentence, voice, await speak(sentence, voice=voice, gender=None, locale=None)))
    voicemail = " ".join(SENTENCES)
    clips.append(Clip(voicemail, "Susan", await speak(voicemail, voice="Susan", gender=None, locale=None)))
    spent = children_cpu() - cpu + time.process_time() - own
    return clips, spent, time.perf_counter() - wall


@dataclass
class Row:
    label: str
    clips: int
    audio: float
    cpu: float
    wall: float
    words: int
    heard: float

    def line(self) -> str:
        return (
            f"| {self.label} | {self.clips} | {self.audio:.1f} | {self.cpu:.2f} "
            f"| {self.cpu / self.audio:.3f} | {self.wall:.2f} | {self.wall / self.audio:.3f} "
            f"| {self.heard / self.words:.0%} |"
        )


async def transcribe_all(threads: int, clips: list[Clip], rounds: int) -> tuple[float, list[Row]]:
    """Model load CPU s, then one row for the short prompts and one for the voicemail clip."""
    async with Transcriber(cpu_threads=threads) as stt:
        load = await stt.warm_up()
        await stt.transcribe(
            clips[0].samples
        )  # first-job costs (VAD session, allocations) out of the figures
        rows = {}
        for kind in ("prompt", "voicemail"):
            chosen = clips[:-1] if kind == "prompt" else clips[-1:]
            row = Row(f"{threads} thread{'s' if threads > 1 else ''}, {kind}s", 0, 0.0, 0.0, 0.0, 0, 0.0)
            for _ in range(rounds):
                for clip in chosen:
                    result = await stt.transcribe_detailed(clip.samples)
                    words = len(clip.text.split())
                    row.clips += 1
                    row.audio += result.audio_seconds
                    row.cpu += result.cpu_seconds
                    row.wall += result.wall_seconds
                    row.words += words
                    row.heard += word_accuracy(clip.text, result.text) * words
            rows[kind] = row
    return load, list(rows.values())


async def main(threads: list[int], rounds: int) -> None:
    clips, tts_cpu, tts_wall = await make_clips()
    audio = sum(clip.seconds for clip in clips)
    print(f"text to speech (espeak-ng + soxr to 8 kHz): {len(clips)} clips, {audio:.1f} s of audio")
    per_cpu, per_wall = tts_cpu / audio, tts_wall / audio
    print(f"  {tts_cpu:.2f} CPU s, {per_cpu:.4f} CPU s per audio s, {per_wall:.4f} wall s per audio s")
    print()
    print("speech to text (faster-whisper, Whisper tiny.en int8, beam 5, VAD on; CPU of the worker process)")
    print()
    print(
        "| threads, clips | clips | audio s | CPU s | CPU s / audio s | wall s | wall / audio | words heard |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    loads = []
    for count in threads:
        load, rows = await transcribe_all(count, clips, rounds)
        loads.append(f"{count} thread{'s' if count > 1 else ''}: {load:.2f} CPU s")
        for row in rows:
            print(row.line(), flush=True)
    print()
    print("model load in the worker: " + ", ".join(loads))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,2", help="ctranslate2 CPU threads to try, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="times each clip is transcribed")
    arguments = parser.parse_args()
    asyncio.run(main([int(count) for count in arguments.threads.split(",")], arguments.rounds))
