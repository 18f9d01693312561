"""The bit-parallel LCS against the textbook dynamic programme it replaces."""

from __future__ import annotations

import random
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from personae.metrics.lcs import lcs_indices, lcs_length, token_masks


def dp_table(a: Sequence[str], b: Sequence[str]) -> list[list[int]]:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table


def dp_indices(a: Sequence[str], b: Sequence[str]) -> list[int]:
    """The traceback `rouge-score` does (``_backtrack_norec``), on the full table."""
    table = dp_table(a, b)
    i, j = len(a), len(b)
    found: list[int] = []
    while i > 0 and j > 0:
        if a[i - 1] == b[j - 1]:
            found.insert(0, i - 1)
            i -= 1
            j -= 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return found


def is_common_subsequence(indices: list[int], a: Sequence[str], b: Sequence[str]) -> bool:
    picked = iter(b)
    return indices == sorted(set(indices)) and all(a[i] in picked for i in indices)


def random_tokens(rng: random.Random, alphabet: str, max_len: int) -> list[str]:
    return [rng.choice(alphabet) for _ in range(rng.randint(0, max_len))]


def test_matches_dp_on_random_inputs() -> None:
    rng = random.Random(20240601)
    for case in range(3000):
        # Small alphabets give many repeats and ties; long inputs cross 64-bit word boundaries.
        alphabet = "ab" if case % 3 == 0 else "abcde" if case % 3 == 1 else "abcdefghijklmnop"
        max_len = 150 if case % 10 == 0 else 20
        a = random_tokens(rng, alphabet, max_len)
        b = random_tokens(rng, alphabet, max_len)
        expected = dp_table(a, b)[-1][-1]
        assert lcs_length(a, b) == expected, (a, b)
        indices = lcs_indices(a, b)
        assert indices == dp_indices(a, b), (a, b)
        assert len(indices) == expected
        assert is_common_subsequence(indices, a, b)
        assert lcs_indices(a, b, masks=token_masks(b)) == indices


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["x", "y", "z", "the", "어"]), max_size=40),
    st.lists(st.sampled_from(["x", "y", "z", "the", "어"]), max_size=40),
)
def test_matches_dp_property(a: list[str], b: list[str]) -> None:
    assert lcs_length(a, b) == dp_table(a, b)[-1][-1]
    assert lcs_indices(a, b) == dp_indices(a, b)


def test_edge_cases() -> None:
    assert lcs_length([], ["a"]) == 0
    assert lcs_length(["a"], []) == 0
    assert lcs_indices([], []) == []
    assert lcs_indices(["a", "b"], ["c", "d"]) == []
    assert lcs_length(["a"] * 200, ["a"] * 70) == 70
    assert lcs_indices(list("abcbdab"), list("bdcaba")) == dp_indices("abcbdab", "bdcaba")
    same = [str(i) for i in range(130)]
    assert lcs_indices(same, same) == list(range(130))


def test_token_masks() -> None:
    assert token_masks(["a", "b", "a"]) == {"a": 0b101, "b": 0b010}
