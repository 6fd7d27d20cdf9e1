"""Text to speech: a Catapult `sentence` with its `voice`, `gender` and `locale` as 8 kHz int16 samples.

espeak-ng (Debian's `espeak-ng`) does the speaking, as a subprocess that writes WAV to its stdout, so a
call's event loop only waits on a pipe. Its 22,050 Hz output is resampled to the media layer's 8 kHz with
soxr. The Catapult voice names map to espeak-ng voices in the one table below (`VOICES`, `LOCALES`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import wave
import weakref
from dataclasses import dataclass

import numpy as np
import soxr

from ..media import SAMPLE_RATE

MAX_SENTENCE = 1000  # characters (§2.7)
ESPEAK = "espeak-ng"
ESPEAK_TIMEOUT = 60.0  # seconds; 1000 characters take well under one
GENDERS = ("female", "male")


class SpeechError(ValueError):
    """A request the speech engine cannot honour as asked: the API answers it with a 400 naming `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SpeechUnavailable(RuntimeError):
    """An engine failed (espeak-ng missing or hung, the transcription worker died): a 503, not a 400."""


@dataclass(frozen=True)
class Voice:
    """A Catapult voice: its home locale, its gender, and the espeak-ng variant that gives it its sound."""

    name: str
    home: str  # the locale it speaks when the request names none (a key of LOCALES)
    gender: str
    variant: str  # an espeak-ng variant (`espeak-ng --voices=variant`), appended as `+variant`


@dataclass(frozen=True)
class Locale:
    """A Catapult locale: the espeak-ng language voice for its accent and its default voice per gender."""

    name: str
    espeak: str  # an espeak-ng voice file (`espeak-ng --voices`, File column): only those take a +variant
    female: str  # a key of VOICES
    male: str


# The table. A voice speaks with its locale's accent (`espeak`) and its own timbre (`variant`). The
# variants were picked from a scan of espeak-ng's 100 or so for being understood at 8 kHz (Whisper tiny.en
# heard 89-97% of the words of six prompts in each of these, against 34-97% over all variants; 2026-11-29)
# and for sounding apart within a language.
# Voice names per §2.7; genders are the names' (Catapult's docs list no gender per voice).
VOICES: dict[str, Voice] = {
    voice.name.lower(): voice
    for voice in (
        Voice("Susan", "en_US", "female", "f2"),
        Voice("Kate", "en_US", "female", "steph"),
        Voice("Julie", "en_US", "female", "f5"),
        Voice("Paul", "en_US", "male", "m6"),
        Voice("Dave", "en_US", "male", "m5"),
        Voice("Bridget", "en_UK", "female", "steph2"),
        Voice("Esperanza", "es", "female", "f2"),
        Voice("Violeta", "es", "female", "f5"),
        Voice("Jorge", "es", "male", "m6"),
        Voice("Jolie", "fr", "female", "f2"),
        Voice("Bernard", "fr", "male", "m6"),
        Voice("Katrin", "de", "female", "f2"),
        Voice("Stefan", "de", "male", "m6"),
        Voice("Paola", "it", "female", "f2"),
        Voice("Luca", "it", "male", "m6"),
    )
}
LOCALES: dict[str, Locale] = {
    locale.name.lower(): locale
    for locale in (
        Locale("en_US", "en-us", "Susan", "Paul"),  # §2.7: default locale en_US, gender female, voice Susan
        Locale("en_UK", "en", "Bridget", "Paul"),  # espeak-ng's `en` is British; `en-gb+f2` drops the +f2
        Locale("es", "es", "Esperanza", "Jorge"),
        Locale("es_MX", "es-419", "Esperanza", "Jorge"),
        Locale("fr", "fr", "Jolie", "Bernard"),  # likewise `fr` (France), not `fr-fr`
        Locale("fr_FR", "fr", "Jolie", "Bernard"),
        Locale("de", "de", "Katrin", "Stefan"),
        Locale("de_DE", "de", "Katrin", "Stefan"),
        Locale("it", "it", "Paola", "Luca"),
        Locale("it_IT", "it", "Paola", "Luca"),
    )
}
DEFAULT_LOCALE = "en_US"
DEFAULT_GENDER = "female"


def _language(locale: str) -> str:
    return locale.split("_")[0].lower()


def _find_locale(locale: str) -> Locale:
    key = locale.strip().replace("-", "_").lower()
    found = LOCALES.get("en_uk" if key == "en_gb" else key)
    if found is None:
        names = ", ".join(item.name for item in LOCALES.values())
        raise SpeechError("locale", f"Unknown locale {locale!r}; one of {names}")
    return found


def resolve_voice(*, voice: str | None, gender: str | None, locale: str | None) -> str:
    """The espeak-ng voice (`en-us+f2`) for a request's fields, or SpeechError naming the bad field.

    Names compare case-insensitively (the docs' samples say `julie`, `kate`); a blank field counts as
    absent, like null. A named voice wins over `gender`, and speaks with the locale's accent when it speaks
    that language. Every client library sends a default voice and `en_US` with each sentence, so a voice
    and a locale of different languages are one default and one choice: a locale other than en_US wins
    (the locale's voice of the asked gender), while en_US with a foreign voice means the voice was chosen
    and it speaks at home.
    """
    asked_gender = (gender or "").strip().lower() or None
    if asked_gender is not None and asked_gender not in GENDERS:
        raise SpeechError("gender", f"Unknown gender {gender!r}; female or male")
    asked_locale = _find_locale(locale) if (locale or "").strip() else None
    chosen = None
    if voice and voice.strip():
        chosen = VOICES.get(voice.strip().lower())
        if chosen is None:
            names = ", ".join(item.name for item in VOICES.values())
            raise SpeechError("voice", f"Unknown voice {voice!r}; one of {names}")
    if chosen is not None:
        home = LOCALES[chosen.home.lower()]
        if asked_locale is None:
            asked_locale = home
        elif asked_locale.name == DEFAULT_LOCALE and _language(home.name) != _language(asked_locale.name):
            asked_locale = home  # en_US came as the client's default; the foreign voice was the choice
        if _language(home.name) == _language(asked_locale.name):
            return f"{asked_locale.espeak}+{chosen.variant}"
        asked_gender = asked_gender or chosen.gender  # a locale of another language was the choice
    place = asked_locale or LOCALES[DEFAULT_LOCALE.lower()]
    default = VOICES[getattr(place, asked_gender or DEFAULT_GENDER).lower()]
    return f"{place.espeak}+{default.variant}"


_SEMAPHORES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _limit() -> asyncio.Semaphore:
    """One espeak-ng per core at a time per event loop: a burst of speaks queues instead of thrashing."""
    loop = asyncio.get_running_loop()
    semaphore = _SEMAPHORES.get(loop)
    if semaphore is None:
        semaphore = _SEMAPHORES[loop] = asyncio.Semaphore(os.cpu_count() or 2)
    return semaphore


def _decode(wav_bytes: bytes) -> np.ndarray:
    """espeak-ng's streamed WAV (its header may claim a bogus length) as 8 kHz int16."""
    with wave.open(io.BytesIO(wav_bytes), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise SpeechUnavailable("espeak-ng wrote audio that is not 16-bit mono")
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    samples = np.frombuffer(raw[: len(raw) // 2 * 2], "<i2")
    if not len(samples):
        return np.zeros(0, np.int16)
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples, rate, SAMPLE_RATE)
    return np.ascontiguousarray(samples, dtype=np.int16)


async def speak(
    sentence: str, *, voice: str | None = None, gender: str | None = None, locale: str | None = None
) -> np.ndarray:
    """`sentence` spoken as 8 kHz mono int16 samples (empty for a blank sentence).

    SpeechError for a bad field (checked before anything runs), SpeechUnavailable when espeak-ng fails.
    """
    if len(sentence) > MAX_SENTENCE:
        raise SpeechError("sentence", f"The sentence is {len(sentence)} characters; at most {MAX_SENTENCE}")
    espeak_voice = resolve_voice(voice=voice, gender=gender, locale=locale)
    text = " ".join(sentence.split())  # espeak-ng reads stdin line by line; one line keeps one prosody
    if not text:
        return np.zeros(0, np.int16)
    binary = shutil.which(ESPEAK)
    if binary is None:
        raise SpeechUnavailable("espeak-ng is not installed (Debian's espeak-ng; bin/bootstrap installs it)")
    async with _limit():
        process = await asyncio.create_subprocess_exec(
            binary,
            "-v",
            espeak_voice,
            "-b",
            "1",  # input is UTF-8
            "--stdin",
            "--stdout",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(text.encode()), ESPEAK_TIMEOUT)
        except BaseException as exc:  # timed out or cancelled: leave no espeak-ng behind
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            if isinstance(exc, TimeoutError):
                raise SpeechUnavailable(f"espeak-ng took over {ESPEAK_TIMEOUT:.0f} s") from exc
            raise
    if process.returncode != 0 or not out:
        detail = err.decode(errors="replace").strip() or f"exit status {process.returncode}"
        raise SpeechUnavailable(f"espeak-ng failed for voice {espeak_voice}: {detail}")
    try:
        return _decode(out)
    except (wave.Error, EOFError) as exc:
        raise SpeechUnavailable(f"espeak-ng wrote no readable WAV: {exc}") from exc
