"""Word accuracy of a transcript: how many of the reference's words came back, in order."""

from __future__ import annotations

import re

_NOT_WORD = re.compile(r"[^a-z0-9']+")


def words(text: str) -> list[str]:
    """Lowercase words without punctuation ("Hello, there!" -> ["hello", "there"]); hyphens split."""
    return [word.strip("'") for word in _NOT_WORD.split(text.lower()) if word.strip("'")]


def word_accuracy(reference: str, transcript: str) -> float:
    """Share of the reference's words found in the transcript in the same order (1.0 = all of them).

    The longest common subsequence of words, over the reference's length: a missed or misheard word
    counts against it; so does a word heard out of order, as it would for a listener.
    """
    expected, heard = words(reference), words(transcript)
    if not expected:
        return 1.0 if not heard else 0.0
    longest = [0] * (len(heard) + 1)  # one row of the LCS table at a time
    for word in expected:
        diagonal = 0
        for j, other in enumerate(heard, 1):
            best = diagonal + 1 if word == other else max(longest[j], longest[j - 1])
            diagonal, longest[j] = longest[j], best
    return longest[-1] / len(expected)
