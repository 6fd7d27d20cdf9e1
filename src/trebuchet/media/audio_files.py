"""Audio files in and out for calls: WAV and MP3 decoded to the media layer's 8 kHz mono int16, and back.

A `fileUrl` (spec §2.7) may be any WAV or MP3 a customer uploads, so decoding takes whatever rate, width,
channel count and G.711 variant the file has and brings it to 8 kHz mono with soxr's HQ resampler. The
format is sniffed from the bytes, never the name, and anything else is an `AudioFormatError` (the API
answers 403 `media-not-supported`). Decoding is miniaudio (dr_wav, dr_mp3): one small wheel, no system
library, quiet on bad input, and it honours the LAME tag's encoder delay and padding.

MP3 out is LAME via lameenc, which does not write the LAME/Info tag frame; without it every decoder plays
LAME's 576-sample encoder delay and the final frame's padding as extra silence (+150 ms on a one-second
8 kHz file). `Mp3Encoder` writes that frame itself, so an MP3 decodes to exactly the samples put in.
"""

from __future__ import annotations

import struct

import lameenc
import miniaudio
import numpy as np
import soxr

from . import FRAME_SAMPLES, SAMPLE_RATE

MP3_BITRATE = 32  # kbit/s: 8 kHz mono speech at 4 kB/s, half of G.711's 64 kbit/s
# LAME quality 7 ("fast"): 0.42 ms of CPU per second of 8 kHz audio against 0.53 ms for the default 5 and
# 1.95 ms for 2, and on espeak-ng speech no worse (waveform SNR 23.2 dB at 32 kbit/s; 22.2 dB for 5).
MP3_QUALITY = 7
RESAMPLE_QUALITY = "HQ"


class AudioFormatError(ValueError):
    """The bytes are not a WAV or MP3 file this server can play (403 `media-not-supported`)."""


# -- decoding --------------------------------------------------------------------------------------------

_OTHER_FORMATS = {
    b"fLaC": "FLAC",
    b"OggS": "Ogg",
    b"FORM": "AIFF",
    b"#!AMR": "AMR",
    b"caff": "CAF",
    b".snd": "Sun/NeXT audio",
    b"%PDF": "PDF",
    b"\x89PNG": "PNG",
    b"<": "text/HTML",
    b"{": "JSON",
}


def sniff_format(data: bytes) -> str:
    """'wav' or 'mp3' from the first bytes; AudioFormatError naming what it looks like otherwise."""
    if len(data) >= 12 and data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE":
        return "wav"
    if _mp3_start(data) is not None:
        return "mp3"
    if not data:
        raise AudioFormatError("the file is empty")
    for magic, name in _OTHER_FORMATS.items():
        if data.startswith(magic):
            raise AudioFormatError(f"{name} is not supported: only WAV and MP3 files can be played")
    raise AudioFormatError(f"not a WAV or MP3 file (it starts with {data[:8].hex(' ')})")


def decode_audio(data: bytes) -> np.ndarray:
    """A WAV or MP3 file as 8 kHz mono int16 samples.

    WAV: PCM 8/16/24/32-bit, float, μ-law, A-law (and IMA/MS ADPCM), any rate and channel count.
    MP3: MPEG-1/2/2.5 layer III. Channels are averaged, the rate is converted with soxr (HQ).
    CPU-bound (about 40 ms per minute of 44.1 kHz stereo MP3): call it off the event loop.
    """
    kind = sniff_format(data)
    try:
        decoded = miniaudio.wav_read_f32(data) if kind == "wav" else miniaudio.mp3_read_f32(data)
    except miniaudio.MiniaudioError as exc:
        raise AudioFormatError(f"corrupt or unsupported {kind.upper()} file: {exc}") from exc
    if decoded.nchannels < 1 or decoded.sample_rate <= 0:
        raise AudioFormatError(
            f"corrupt {kind.upper()} file: {decoded.nchannels} channels at {decoded.sample_rate} Hz"
        )
    samples = np.frombuffer(decoded.samples, dtype=np.float32)
    if decoded.nchannels > 1:
        samples = samples[: len(samples) - len(samples) % decoded.nchannels]
        samples = samples.reshape(-1, decoded.nchannels).mean(axis=1, dtype=np.float32)
    if decoded.sample_rate != SAMPLE_RATE and len(samples):
        samples = soxr.resample(samples, decoded.sample_rate, SAMPLE_RATE, quality=RESAMPLE_QUALITY)
    return float_to_int16(samples)


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """[-1, 1) floats to int16, rounded and clipped (resampling overshoots full-scale input)."""
    return np.clip(np.rint(np.asarray(samples, dtype=np.float32) * 32768.0), -32768, 32767).astype(np.int16)


# -- MPEG audio frame headers (layer III only) -------------------------------------------------------------

# sample rate -> (version bits: 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5; sample-rate index)
_MPEG_RATES = {
    44100: (3, 0),
    48000: (3, 1),
    32000: (3, 2),
    22050: (2, 0),
    24000: (2, 1),
    16000: (2, 2),
    11025: (0, 0),
    12000: (0, 1),
    8000: (0, 2),
}
_RATE_OF = {bits: rate for rate, bits in _MPEG_RATES.items()}
_L3_KBPS_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_L3_KBPS_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)


def _frame_header(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(frame size in bytes, sample rate, version bits) of a layer III frame header at `at`, else None."""
    if at + 4 > len(data) or data[at] != 0xFF:
        return None
    word = int.from_bytes(data[at : at + 4], "big")
    version, layer = (word >> 19) & 3, (word >> 17) & 3
    bitrate_index, rate_index, padding = (word >> 12) & 15, (word >> 10) & 3, (word >> 9) & 1
    if word >> 21 != 0x7FF or version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    rate = _RATE_OF[(version, rate_index)]
    if version == 3:
        size = 144_000 * _L3_KBPS_V1[bitrate_index] // rate + padding
    else:
        size = 72_000 * _L3_KBPS_V2[bitrate_index] // rate + padding
    return size, rate, version


def _mp3_start(data: bytes) -> int | None:
    """Where the first MP3 frame starts (after an ID3v2 tag and zero padding), if the bytes are MP3.

    Two consecutive matching frame headers are required (or one frame that fills the rest of the
    file), so random bytes that happen to begin with a sync word are not taken for MP3.
    """
    at = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        at = 10 + size + (10 if data[5] & 0x10 else 0)
    while at < len(data) and data[at] == 0:
        at += 1
    first = _frame_header(data, at)
    if first is None:
        return None
    after = at + first[0]
    if after == len(data):
        return at
    second = _frame_header(data, after)
    return at if second is not None and second[1:] == first[1:] else None


# -- encoding --------------------------------------------------------------------------------------------


def wav_header(data_bytes: int, rate: int = SAMPLE_RATE) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV whose data chunk holds `data_bytes` bytes."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        rate,
        rate * 2,
        2,
        16,
        b"data",
        data_bytes,
    )


def encode_wav(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Mono 16-bit PCM WAV bytes in one join (no `wave` module, no per-chunk header patching)."""
    pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    return wav_header(len(pcm), rate) + pcm


def _crc16(data: bytes) -> int:
    """CRC-16/ARC, the LAME tag's checksum."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


class Mp3Encoder:
    """Mono CBR MP3 through lameenc, plus the LAME/Info tag frame that makes it decode gaplessly.

    Feed `encode` in blocks, then `flush`; the file is `tag_frame()` followed by every byte they
    returned. The tag frame has the same size from the first call on, so a streaming writer can put a
    placeholder first and overwrite it with the final one (frame and byte counts, padding) at the end.
    (LAME's output is 0.95 of its input's level, -0.45 dB, at every rate; the lame command's is too.)
    """

    ENCODER_DELAY = 576  # LAME's, for an unresampled stream (decoders add their own 529 themselves)

    def __init__(
        self, rate: int = SAMPLE_RATE, bitrate: int = MP3_BITRATE, quality: int = MP3_QUALITY
    ) -> None:
        if rate not in _MPEG_RATES:
            raise ValueError(f"MP3 cannot carry {rate} Hz (rates: {sorted(_MPEG_RATES)})")
        self.rate = rate
        self.bitrate = bitrate
        self._lame = lameenc.Encoder()
        self._lame.set_bit_rate(bitrate)
        self._lame.set_in_sample_rate(rate)
        self._lame.set_out_sample_rate(rate)
        self._lame.set_channels(1)
        self._lame.set_quality(quality)
        self.samples = 0  # fed so far
        self.frames = 0  # MP3 frames produced so far
        self.audio_bytes = 0
        self._next_header = 0  # offset (in the audio bytes) of the next frame header
        self._carry = b""  # a header cut between two chunks

    def encode(self, samples: np.ndarray) -> bytes:
        pcm = np.ascontiguousarray(samples, dtype="<i2")
        self.samples += len(pcm)
        return self._count(bytes(self._lame.encode(pcm.tobytes())))

    def flush(self) -> bytes:
        return self._count(bytes(self._lame.flush()))

    def _count(self, chunk: bytes) -> bytes:
        """Walk the frame headers as they go by: the tag needs the frame count."""
        data = self._carry + chunk
        base = self.audio_bytes - len(self._carry)
        self.audio_bytes += len(chunk)
        while self._next_header + 4 <= self.audio_bytes:
            header = _frame_header(data, self._next_header - base)
            if header is None:
                raise RuntimeError(f"lameenc produced no frame header at byte {self._next_header}")
            self.frames += 1
            self._next_header += header[0]
        self._carry = data[self._next_header - base :] if self._next_header < self.audio_bytes else b""
        return chunk

    def tag_frame(self) -> bytes:
        """The Info frame (Xing header + LAME extension) for what has been encoded so far."""
        version, rate_index = _MPEG_RATES[self.rate]
        mpeg1 = version == 3
        side_info = 17 if mpeg1 else 9  # mono
        kbps_table, coefficient = (_L3_KBPS_V1, 144_000) if mpeg1 else (_L3_KBPS_V2, 72_000)
        xing_at = 4 + side_info
        lame_at = xing_at + 120
        for bitrate_index in range(1, 15):  # the smallest bitrate at or above ours whose frame holds the tag
            size = coefficient * kbps_table[bitrate_index] // self.rate
            if kbps_table[bitrate_index] >= self.bitrate and size >= lame_at + 36:
                break
        header = 0xFFE00000 | version << 19 | 1 << 17 | 1 << 16 | bitrate_index << 12 | rate_index << 10
        header |= 3 << 6 | 1 << 2  # mono, original
        samples_per_frame = 1152 if mpeg1 else 576
        padding = self.frames * samples_per_frame - self.ENCODER_DELAY - self.samples
        padding = min(max(padding, 0), 0xFFF) if self.frames else 0
        total = size + self.audio_bytes
        frame = bytearray(size)
        frame[:4] = header.to_bytes(4, "big")
        toc = bytes(index * 256 // 100 for index in range(100))  # CBR: seek positions are linear
        frame[xing_at:lame_at] = (
            b"Info" + struct.pack(">III", 0x0F, self.frames, total) + toc + struct.pack(">I", 50)
        )
        frame[lame_at : lame_at + 34] = (
            b"LAME3.100"
            + bytes([0x01, 0])  # tag revision 0, CBR; lowpass unknown
            + bytes(8)  # peak amplitude, radio and audiophile replay gain: not computed
            + bytes([0, min(self.bitrate, 255)])
            + (self.ENCODER_DELAY << 12 | padding).to_bytes(3, "big")
            + bytes(4)  # misc, MP3 gain, preset/surround
            + struct.pack(">IH", total, 0)  # music length; music CRC not computed
        )
        frame[lame_at + 34 : lame_at + 36] = _crc16(bytes(frame[: lame_at + 34])).to_bytes(2, "big")
        return bytes(frame)


def encode_mp3(samples: np.ndarray, rate: int = SAMPLE_RATE, bitrate: int = MP3_BITRATE) -> bytes:
    """Mono CBR MP3 bytes (32 kbit/s by default) that decode back to exactly len(samples) samples."""
    encoder = Mp3Encoder(rate, bitrate)
    body = encoder.encode(samples) + encoder.flush()
    return encoder.tag_frame() + body


# -- playing ---------------------------------------------------------------------------------------------

# Catapult's `volume` (-4 … 4) is undocumented beyond its range; Catapult ran on FreeSWITCH, whose playback
# volume levels have exactly this range and these linear gains (switch_change_sln_volume): +4 ≈ +12.7 dB,
# -4 ≈ -14 dB. Samples are scaled, truncated toward zero and clipped to int16, as there.
VOLUME_GAINS = {-4: 0.2, -3: 0.4, -2: 0.6, -1: 0.8, 0: 1.0, 1: 1.3, 2: 2.3, 3: 3.3, 4: 4.3}


def apply_volume(samples: np.ndarray, volume: int) -> np.ndarray:
    """A copy of `samples` at Catapult volume level `volume` (-4 … 4)."""
    if volume not in VOLUME_GAINS:
        raise ValueError(f"volume must be an integer from -4 to 4, not {volume!r}")
    samples = np.asarray(samples, dtype=np.int16)
    if volume == 0:
        return samples.copy()
    scaled = np.trunc(samples.astype(np.float32) * np.float32(VOLUME_GAINS[volume]))
    return np.clip(scaled, -32768, 32767).astype(np.int16)


class FilePlayer:
    """A frame source (`RtpSession.source`) playing decoded audio: exact 20 ms frames, then None.

    The volume is applied once, up front, so a tick costs one slice. A loop wraps mid-frame, so a looped
    file has no gap at the seam; without loop the last frame is padded with silence. Frames are read-only
    views of the player's samples.
    """

    def __init__(self, samples: np.ndarray, *, loop: bool = False, volume: int = 0) -> None:
        self.samples = apply_volume(samples, volume)
        self.samples.setflags(write=False)
        self.loop = loop
        self.volume = volume
        self.position = 0
        self.loops = 0  # times the end was passed while looping
        self.stopped = False

    @classmethod
    def from_bytes(cls, data: bytes, *, loop: bool = False, volume: int = 0) -> FilePlayer:
        """Decode a WAV/MP3 file (AudioFormatError if it is neither) and play it."""
        return cls(decode_audio(data), loop=loop, volume=volume)

    @property
    def finished(self) -> bool:
        return self.stopped or not len(self.samples) or (not self.loop and self.position >= len(self.samples))

    @property
    def duration(self) -> float:
        """Seconds of one pass through the file."""
        return len(self.samples) / SAMPLE_RATE

    def stop(self) -> None:
        """From now on the player gives None (Catapult's `fileUrl: ""`)."""
        self.stopped = True

    def __call__(self) -> np.ndarray | None:
        if self.finished:
            return None
        count = len(self.samples)
        start, end = self.position, self.position + FRAME_SAMPLES
        if end <= count:
            frame = self.samples[start:end]
            self.position = end
        elif not self.loop:
            frame = np.zeros(FRAME_SAMPLES, dtype=np.int16)
            frame[: count - start] = self.samples[start:]
            self.position = count
        else:  # wrap: the frame continues from the start of the file (possibly more than once if it is short)
            frame = self.samples[np.arange(start, end) % count]
            self.loops += end // count
            self.position = end % count
        if self.loop and self.position == count:
            self.position = 0
            self.loops += 1
        return frame
