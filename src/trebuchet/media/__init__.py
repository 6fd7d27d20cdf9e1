"""Media: RTP packets, G.711 codecs, RFC 4733 telephone events and receive buffering (sans-IO pieces).

Audio inside Trebuchet is 8 kHz 16-bit signed PCM in numpy arrays, cut into 20 ms frames of 160 samples,
so that mixing, playing and recording can run as batch work on one shared frame clock.
"""

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
