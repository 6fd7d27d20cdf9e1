"""Speech: text to speech for `sentence` audio and speech to text for transcriptions.

Both sit behind small interfaces so the engine never sees the engines: `speak()` turns a sentence into
the media layer's 8 kHz int16 samples (espeak-ng), and `Transcriber` turns a recording into English text
(Whisper tiny.en via faster-whisper, in a worker). Both engines ship with the install; importing this
package loads neither model nor ctranslate2.
"""

from .stt import Transcriber, Transcript
from .tts import MAX_SENTENCE, SpeechError, SpeechUnavailable, resolve_voice, speak

__all__ = [
    "MAX_SENTENCE",
    "SpeechError",
    "SpeechUnavailable",
    "Transcriber",
    "Transcript",
    "resolve_voice",
    "speak",
]
