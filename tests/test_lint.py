"""The code base stays ruff-clean and ruff-formatted (part of the suite so CI enforces it)."""

from __future__ import annotations

import subprocess
import sys

from .support import ROOT


def test_ruff_check_and_format():
    for args in (["check", "src", "tests", "bench"], ["format", "--check", "src", "tests", "bench"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
