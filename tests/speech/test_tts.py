"""Text to speech: the voice table against the spec and the installed espeak-ng, and speak()'s audio."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import time

import numpy as np
import pytest

from trebuchet.media import SAMPLE_RATE
from trebuchet.speech import MAX_SENTENCE, SpeechError, resolve_voice, speak
from trebuchet.speech.tts import LOCALES, VOICES

# §2.7, verbatim: the voices per language and the locales.
SPEC_VOICES = {
    "en_US": ["Kate", "Susan", "Julie", "Dave", "Paul"],
    "en_UK": ["Bridget"],
    "es": ["Esperanza", "Violeta", "Jorge"],
    "fr": ["Jolie", "Bernard"],
    "de": ["Katrin", "Stefan"],
    "it": ["Paola", "Luca"],
}
SPEC_LOCALES = ["en_US", "en_UK", "es", "es_MX", "fr", "fr_FR", "de", "de_DE", "it", "it_IT"]


def espeak_list(kind: str | None = None) -> dict[str, str]:
    """espeak-ng's voice list as {file name, lowercase: gender letter} (File and Age/Gender columns)."""
    args = ["espeak-ng", f"--voices={kind}" if kind else "--voices"]
    lines = subprocess.run(args, capture_output=True, text=True, check=True, timeout=30).stdout.splitlines()
    found = {}
    for line in lines[1:]:
        fields = line.split()
        # Pty Language Age/Gender VoiceName File [Other Languages]; VoiceName has no spaces here.
        found[fields[4].rsplit("/", 1)[-1].lower()] = fields[2].rsplit("/", 1)[-1]
    return found


def espeak_audio(voice: str, text: str = "one two three four") -> bytes:
    return subprocess.run(
        ["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True, timeout=30
    ).stdout


def test_every_spec_voice_and_locale_is_in_the_table():
    assert sorted(locale.name for locale in LOCALES.values()) == sorted(SPEC_LOCALES)
    for locale, names in SPEC_VOICES.items():
        for name in names:
            assert VOICES[name.lower()].home == locale
    assert len(VOICES) == sum(map(len, SPEC_VOICES.values()))


def test_every_locale_default_is_a_voice_of_its_language_and_gender():
    for locale in LOCALES.values():
        for gender in ("female", "male"):
            voice = VOICES[getattr(locale, gender).lower()]
            assert voice.gender == gender
            assert voice.home.split("_")[0] == locale.name.split("_")[0]


def test_espeak_has_every_language_and_variant_of_the_table():
    languages, variants = espeak_list(), espeak_list("variant")
    for locale in LOCALES.values():
        assert locale.espeak in languages, f"{locale.name}: no espeak-ng voice file {locale.espeak!r}"
    for voice in VOICES.values():
        assert voice.variant.lower() in variants, f"{voice.name}: no espeak-ng variant {voice.variant!r}"
        assert variants[voice.variant.lower()] == voice.gender[0].upper(), f"{voice.name}: variant's gender"


def test_each_variant_changes_the_sound():
    """espeak-ng drops a +variant it cannot apply (`en-gb+f2` sounds like `en-gb`): every voice of a locale
    must sound unlike the bare language voice and unlike the locale's other voices."""
    for locale in LOCALES.values():
        language = locale.name.split("_")[0]
        names = [voice.name for voice in VOICES.values() if voice.home.split("_")[0] == language]
        voices = {name: resolve_voice(voice=name, gender=None, locale=locale.name) for name in names}
        sounds = {name: espeak_audio(voice) for name, voice in voices.items()}
        bare = espeak_audio(locale.espeak)
        for name, sound in sounds.items():
            assert sound != bare, f"{name} in {locale.name} sounds like plain {locale.espeak}"
        for first, second in itertools.combinations(names, 2):
            assert sounds[first] != sounds[second], f"{first} and {second} sound alike in {locale.name}"


@pytest.mark.parametrize(
    ("voice", "gender", "locale", "expected"),
    [
        (None, None, None, "en-us+f2"),  # §2.7 defaults: en_US, female, Susan
        ("", " ", "", "en-us+f2"),  # blank is absent
        ("Susan", "female", "en_US", "en-us+f2"),  # what the python and C# clients send
        ("kate", "female", "en_US", "en-us+steph"),  # ruby's defaults, lowercase
        ("JULIE", None, None, "en-us+f5"),
        (None, "male", None, "en-us+m6"),  # Paul
        (None, "Male", "en_US", "en-us+m6"),
        ("Susan", "male", "en_US", "en-us+f2"),  # a named voice wins over gender
        ("Bridget", None, None, "en+steph2"),  # a voice without a locale speaks at home
        ("Susan", None, "en_UK", "en+f2"),  # ... and with the asked locale's accent in its own language
        (None, None, "en-GB", "en+steph2"),  # en_UK's default is Bridget
        ("Jorge", None, "es_MX", "es-419+m6"),
        ("Jorge", "male", "en_US", "es+m6"),  # en_US is the clients' default: the voice was the choice
        ("susan", "female", "es", "es+f2"),  # a locale other than en_US was the choice: its female voice
        ("kate", "male", "de", "de+m6"),  # ruby with locale de and gender male: Stefan
        ("Jolie", None, "fr_FR", "fr+f2"),
        ("Luca", None, "it_IT", "it+m6"),
        (None, "female", "de_DE", "de+f2"),
    ],
)
def test_resolve_voice(voice: str | None, gender: str | None, locale: str | None, expected: str):
    assert resolve_voice(voice=voice, gender=gender, locale=locale) == expected


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"voice": "Kimberly"}, "voice"),
        ({"locale": "pt_BR"}, "locale"),
        ({"gender": "robot"}, "gender"),
    ],
)
def test_unknown_fields_are_speech_errors_naming_the_field(fields: dict[str, str], field: str):
    request = {"voice": None, "gender": None, "locale": None, **fields}
    with pytest.raises(SpeechError) as raised:
        resolve_voice(**request)
    assert raised.value.field == field
    assert repr(fields[field]) in str(raised.value)
    with pytest.raises(SpeechError):
        asyncio.run(speak("Hello", **request))


def test_speak_gives_8khz_int16_of_a_plausible_length():
    sentence = "Thank you for calling. Please leave a message after the tone."
    samples = asyncio.run(speak(sentence, voice="Susan", gender="female", locale="en_US"))
    assert samples.dtype == np.int16 and samples.ndim == 1
    seconds = len(samples) / SAMPLE_RATE
    expected = len(sentence.split()) / 175 * 60  # espeak-ng speaks 175 words a minute
    assert expected / 2 < seconds < expected * 2, seconds
    peak = int(np.abs(samples.astype(np.int32)).max())
    assert 4000 < peak < 32767, peak  # audible on a phone line, not clipped
    assert np.abs(samples[: SAMPLE_RATE // 10].astype(np.int32)).max() < peak  # not noise from the start


def test_speak_every_locale():
    sentences = {
        "en": "Good morning",
        "es": "Buenos días",
        "fr": "Bonjour",
        "de": "Guten Tag",
        "it": "Buongiorno",
    }

    async def all_locales() -> dict[str, np.ndarray]:
        names = [locale.name for locale in LOCALES.values()]
        spoken = await asyncio.gather(
            *(speak(sentences[name.split("_")[0]], voice=None, gender="male", locale=name) for name in names)
        )
        return dict(zip(names, spoken, strict=True))

    for name, samples in asyncio.run(all_locales()).items():
        assert 0.3 < len(samples) / SAMPLE_RATE < 3, name


def test_blank_and_overlong_sentences():
    assert len(asyncio.run(speak("", voice=None, gender=None, locale=None))) == 0
    assert len(asyncio.run(speak(" \n ", voice=None, gender=None, locale=None))) == 0
    longest = asyncio.run(speak("word " * (MAX_SENTENCE // 5), voice=None, gender=None, locale=None))
    assert len(longest) / SAMPLE_RATE > 30
    with pytest.raises(SpeechError) as raised:
        asyncio.run(speak("x" * (MAX_SENTENCE + 1), voice=None, gender=None, locale=None))
    assert raised.value.field == "sentence"


def test_sentence_text_is_never_an_option():
    samples = asyncio.run(speak("--help -v xx", voice=None, gender=None, locale=None))
    assert len(samples) / SAMPLE_RATE > 0.5


def test_speaking_does_not_block_the_event_loop():
    """Several long sentences at once while a 5 ms ticker runs: the ticker's worst gap stays small."""

    async def run() -> float:
        worst, stop = 0.0, False

        async def ticker() -> None:
            nonlocal worst
            last = time.perf_counter()
            while not stop:
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                worst, last = max(worst, now - last), now

        task = asyncio.create_task(ticker())
        long_sentence = "and so on " * 60
        await asyncio.gather(*(speak(long_sentence, voice=None, gender=None, locale=None) for _ in range(4)))
        stop = True
        await task
        return worst

    assert asyncio.run(run()) < 0.1
