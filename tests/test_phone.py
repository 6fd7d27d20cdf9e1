"""`trebuchet phone` as a user runs it: two phones call each other on loopback; what is heard is checked."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np

from trebuchet.media.g711 import decode_alaw
from trebuchet.media.wav import read_wav, write_wav

from .support import free_port


def phone(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trebuchet", "phone", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def listening_port(proc: subprocess.Popen[str]) -> int:
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "listening"
    return int(first["sip"].rsplit(":", 1)[1])


def events(proc: subprocess.Popen[str], timeout: float = 30) -> list[dict]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def dominant_frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return float(np.argmax(spectrum) * 8000 / len(samples))


def test_two_phones_tone_digits_headers_and_recording(tmp_path):
    recording = tmp_path / "callee.wav"
    callee = phone(
        "--sip", "127.0.0.1:0", "--record", str(recording), "--count", "1", "--answer-after", "0.2"
    )
    port = listening_port(callee)
    caller = phone(
        "--sip",
        "127.0.0.1:0",
        "--dial",
        f"sip:callee@127.0.0.1:{port}",
        "--tone",
        "1000",
        "--dtmf",
        "12#",
        "--hangup-after",
        "2",
        "--header",
        "X-Customer: 42",
    )
    caller_events = [e["event"] for e in events(caller)]
    callee_events = events(callee)
    assert caller_events == ["listening", "calling", "ringing", "answered", "dtmf-sent", "ended"]
    incoming = next(e for e in callee_events if e["event"] == "incoming")
    assert incoming["headers"] == {"X-Customer": "42"}
    assert [e["digit"] for e in callee_events if e["event"] == "dtmf"] == ["1", "2", "#"]
    assert callee_events[-2] == {"event": "ended", "reason": "remote"}
    heard = read_wav(recording)
    assert 1.8 < len(heard) / 8000 < 3.0
    assert abs(dominant_frequency(heard) - 1000) < 5


def test_a_played_file_arrives_intact(tmp_path):
    source, recording = tmp_path / "prompt.wav", tmp_path / "heard.wav"
    t = np.arange(8000) / 8000
    sweep = (6000 * np.sin(2 * np.pi * (300 + 400 * t) * t)).astype(np.int16)  # 300 → 1100 Hz chirp
    write_wav(source, sweep)
    callee = phone("--sip", "127.0.0.1:0", "--record", str(recording))
    port = listening_port(callee)
    caller = phone(
        "--sip",
        "127.0.0.1:0",
        "--dial",
        f"sip:callee@127.0.0.1:{port}",
        "--play",
        str(source),
        "--hangup-after",
        "1.6",
    )
    events(caller)
    events(callee)
    heard = read_wav(recording).astype(float)
    correlation = np.correlate(heard, sweep.astype(float), mode="valid")
    best = correlation.max() / (
        np.linalg.norm(sweep) * np.linalg.norm(heard[np.argmax(correlation) :][: len(sweep)])
    )
    assert best > 0.95  # the chirp came through G.711 in order, without gaps


def test_rejected_call(tmp_path):
    callee = phone("--sip", "127.0.0.1:0", "--reject", "486")
    port = listening_port(callee)
    caller = phone("--sip", "127.0.0.1:0", "--dial", f"sip:callee@127.0.0.1:{port}")
    assert [e for e in events(caller) if e["event"] == "failed"] == [{"event": "failed", "status": 486}]
    assert {"event": "rejected", "status": 486} in events(callee)


def test_recording_is_a_proper_wav_and_rtp_uses_the_given_port_range(tmp_path):
    recording = tmp_path / "r.wav"
    callee = phone("--sip", "127.0.0.1:0", "--record", str(recording), "--rtp-ports", "41000-41099")
    port = listening_port(callee)
    events(phone("--sip", "127.0.0.1:0", "--dial", f"sip:x@127.0.0.1:{port}", "--hangup-after", "0.5"))
    answered = next(e for e in events(callee) if e["event"] == "answered")
    assert 41000 <= answered["rtp_port"] <= 41098 and answered["rtp_port"] % 2 == 0
    with wave.open(str(recording)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)


# -- sipp as the caller ----------------------------------------------------------------------------------

SCENARIOS = Path(__file__).resolve().parent / "data" / "sipp"
PCAP_AUDIO = Path(
    "/usr/share/sip-tester/g711a.pcap"
)  # shipped by Debian's sip-tester, which bin/test installs


def pcap_alaw_audio(path: Path) -> np.ndarray:
    """The A-law RTP payloads of a pcap (Ethernet/IPv4/UDP), decoded, in capture order."""
    data = path.read_bytes()
    offset, payloads = 24, []
    while offset + 16 <= len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        packet = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        ip_header = (packet[14] & 0x0F) * 4
        payloads.append(packet[14 + ip_header + 8 + 12 :])
    return decode_alaw(b"".join(payloads))


def best_alignment(heard: np.ndarray, sent: np.ndarray) -> float:
    """Normalised cross-correlation peak (1.0: the same signal, somewhere in the recording)."""
    n = len(heard) + len(sent)
    product = np.fft.rfft(heard.astype(float), n) * np.conj(np.fft.rfft(sent.astype(float), n))
    lag = int(np.argmax(np.fft.irfft(product, n)[: len(heard)]))
    window = heard[lag : lag + len(sent)].astype(float)
    reference = sent[: len(window)].astype(float)
    return float(np.dot(window, reference) / (np.linalg.norm(window) * np.linalg.norm(reference)))


def sipp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "sipp",
            *args,
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "30",
            "-timeout_error",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-mp",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sipp_calls_the_phone_with_headers_audio_and_a_digit(tmp_path):
    recording = tmp_path / "heard.wav"
    callee = phone("--sip", "127.0.0.1:0", "--record", str(recording))
    port = listening_port(callee)
    done = sipp("-sf", str(SCENARIOS / "uac_media.xml"), "-s", "agent", f"127.0.0.1:{port}")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    seen = events(callee)
    incoming = next(e for e in seen if e["event"] == "incoming")
    assert incoming["headers"] == {"X-Account": "acme-123", "X-Trace": 'a;b=c "quoted"'}
    assert next(e for e in seen if e["event"] == "answered")["codec"] == "PCMA"
    assert [e["digit"] for e in seen if e["event"] == "dtmf"] == ["1"]
    sent = pcap_alaw_audio(PCAP_AUDIO)
    heard = read_wav(recording)
    assert len(heard) >= len(sent)
    assert best_alignment(heard, sent) > 0.95  # the speech sipp played is in the recording, intact


def test_sipp_cancels_while_the_phone_rings():
    callee = phone("--sip", "127.0.0.1:0", "--answer-after", "5")
    port = listening_port(callee)
    done = sipp("-sf", str(SCENARIOS / "uac_cancel.xml"), "-s", "agent", f"127.0.0.1:{port}")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "cancelled" in [e["event"] for e in events(callee)]


def test_sipp_is_refused_busy():
    callee = phone("--sip", "127.0.0.1:0", "--reject", "486")
    port = listening_port(callee)
    done = sipp("-sn", "uac", "-s", "agent", f"127.0.0.1:{port}")
    assert done.returncode != 0  # sipp's uac expects 200; what it got instead is in its error log
    assert {"event": "rejected", "status": 486} in events(callee)


def test_the_phone_calls_sipp_which_echoes_our_tone_back(tmp_path):
    recording = tmp_path / "echo.wav"
    port = free_port()
    echo = subprocess.Popen(
        [
            "sipp",
            "-sn",
            "uas",
            "-rtp_echo",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mp",
            str(free_port()),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "30",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        caller = phone(
            "--sip",
            "127.0.0.1:0",
            "--dial",
            f"sip:echo@127.0.0.1:{port}",
            "--tone",
            "700",
            "--record",
            str(recording),
            "--hangup-after",
            "2",
        )
        assert [e["event"] for e in events(caller)][-2:] == ["ended", "recorded"]
        assert echo.wait(timeout=15) == 0  # sipp's uas saw a complete call: INVITE, ACK, BYE
    finally:
        if echo.poll() is None:
            echo.kill()
    heard = read_wav(recording)
    assert abs(dominant_frequency(heard) - 700) < 5  # our tone went out as RTP and came back


def test_the_phone_registers_with_digest(tmp_path):
    port = free_port()
    registrar = subprocess.Popen(
        [
            "sipp",
            "-sf",
            str(SCENARIOS / "registrar_digest.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "20",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        registering = phone(
            "--sip",
            "127.0.0.1:0",
            "--register",
            f"sip:127.0.0.1:{port}",
            "--user",
            "alice",
            "--password",
            "wonderland",
            "--dial",
            f"sip:nobody@127.0.0.1:{free_port()}",
            "--count",
            "0",
        )
        seen = events(registering)
        assert {"event": "registered", "status": 200} in seen
        assert registrar.wait(timeout=15) == 0
    finally:
        if registrar.poll() is None:
            registrar.kill()
