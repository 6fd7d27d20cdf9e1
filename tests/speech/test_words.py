"""The word-accuracy measure the round-trip tests rely on."""

from __future__ import annotations

import pytest

from .words import word_accuracy, words


def test_words_drop_case_and_punctuation():
    assert words("Hello, there! It's well-known.") == ["hello", "there", "it's", "well", "known"]


@pytest.mark.parametrize(
    ("reference", "transcript", "expected"),
    [
        ("Please hold the line.", "please hold the line", 1.0),
        ("please hold the line", "please hold line", 0.75),  # a word missed
        ("please hold the line", "please fold the line", 0.75),  # a word misheard
        ("please hold the line", "uh please um hold the the line", 1.0),  # extra words cost nothing
        ("one two three four", "four three two one", 0.25),  # order matters
        ("please hold", "", 0.0),
        ("", "", 1.0),
    ],
)
def test_word_accuracy(reference: str, transcript: str, expected: float):
    assert word_accuracy(reference, transcript) == pytest.approx(expected)
