"""G.711 μ-law (PCMU) and A-law (PCMA): 16-bit linear PCM ⇄ 8-bit codes, as numpy table look-ups.

Both directions are computed once, from the ITU-T G.711 segment rules, into tables: decoding is a
256-entry table, encoding a 65,536-entry table indexed by the sample's bit pattern. A 20 ms frame is
then one fancy-indexing operation, which is what lets one process code thousands of streams.
"""

from __future__ import annotations

import numpy as np

_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635


def _mulaw_encode_one(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, _MULAW_CLIP) + _MULAW_BIAS
    exponent = magnitude.bit_length() - 8  # position of the top bit above the 8-bit floor
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _mulaw_decode_one(code: int) -> int:
    code = ~code & 0xFF
    exponent = (code >> 4) & 0x07
    magnitude = ((((code & 0x0F) << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return -magnitude if code & 0x80 else magnitude


def _alaw_encode_one(sample: int) -> int:
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(-sample - 1 if sample < 0 else sample, 32767) >> 3  # 13-bit magnitude
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


def _alaw_decode_one(code: int) -> int:
    code ^= 0x55
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    # Segment 0 is linear; each later segment doubles the step and adds the implied leading bit.
    magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if code & 0x80 else -magnitude


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    samples = np.arange(65536, dtype=np.uint16).view(np.int16).tolist()
    mulaw_encode = np.array([_mulaw_encode_one(s) for s in samples], dtype=np.uint8)
    alaw_encode = np.array([_alaw_encode_one(s) for s in samples], dtype=np.uint8)
    mulaw_decode = np.array([_mulaw_decode_one(c) for c in range(256)], dtype=np.int16)
    alaw_decode = np.array([_alaw_decode_one(c) for c in range(256)], dtype=np.int16)
    return mulaw_encode, mulaw_decode, alaw_encode, alaw_decode


MULAW_ENCODE, MULAW_DECODE, ALAW_ENCODE, ALAW_DECODE = _tables()


def encode_mulaw(pcm: np.ndarray) -> bytes:
    """int16 samples → PCMU payload bytes."""
    return MULAW_ENCODE[np.asarray(pcm, dtype=np.int16).view(np.uint16)].tobytes()


def decode_mulaw(payload: bytes) -> np.ndarray:
    """PCMU payload bytes → int16 samples."""
    return MULAW_DECODE[np.frombuffer(payload, dtype=np.uint8)]


def encode_alaw(pcm: np.ndarray) -> bytes:
    """int16 samples → PCMA payload bytes."""
    return ALAW_ENCODE[np.asarray(pcm, dtype=np.int16).view(np.uint16)].tobytes()


def decode_alaw(payload: bytes) -> np.ndarray:
    """PCMA payload bytes → int16 samples."""
    return ALAW_DECODE[np.frombuffer(payload, dtype=np.uint8)]
