"""Longest common subsequence over token lists, bit-parallel.

Each distinct token of ``b`` gets a bitmask of where it occurs; one pass over ``a`` updates a
row vector with a handful of big-integer operations per token (Hyyrö's formulation of the
Allison–Dix algorithm), so a row costs O(len(b) / 64) machine words instead of len(b) Python
steps. Zero bits of the row vector after ``i`` tokens of ``a`` mark the columns where the DP
table's row ``i`` grows by one, which is enough to read the table back for a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


def token_masks(b: Sequence[str]) -> dict[str, int]:
    """Bitmask of the positions of each distinct token of ``b`` (reusable across calls)."""
    masks: dict[str, int] = {}
    for j, token in enumerate(b):
        masks[token] = masks.get(token, 0) | (1 << j)
    return masks


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of ``a`` and ``b``."""
    if not a or not b:
        return 0
    masks = token_masks(b)
    full = (1 << len(b)) - 1
    row = full
    for token in a:
        match = masks.get(token)
        if match:
            u = row & match
            row = ((row + u) | (row - u)) & full
    return len(b) - row.bit_count()


def lcs_indices(
    a: Sequence[str], b: Sequence[str], *, masks: dict[str, int] | None = None
) -> list[int]:
    """Positions in ``a`` of one longest common subsequence with ``b``.

    Which one: the traceback that takes a match whenever the two tokens are equal and otherwise
    moves along ``a`` unless moving along ``b`` keeps a strictly longer prefix LCS — the choice
    the reference ROUGE implementations make, so summary-level ROUGE-L agrees with them.
    ``masks`` is ``token_masks(b)``, for a caller that pairs one ``b`` with many ``a``.
    """
    if not a or not b:
        return []
    if masks is None:
        masks = token_masks(b)
    full = (1 << len(b)) - 1
    rows = [full]
    row = full
    for token in a:
        match = masks.get(token)
        if match:
            u = row & match
            row = ((row + u) | (row - u)) & full
        rows.append(row)
    if row == full:  # nothing in common
        return []

    # The DP table's entry (i, j) is j minus the set bits of rows[i] below bit j. ``here`` is
    # the entry at the current cell; once it is 0 no match is left, so the walk stops early.
    i, j = len(a), len(b)
    here = j - row.bit_count()
    found: list[int] = []
    while here:
        if a[i - 1] == b[j - 1]:
            found.append(i - 1)
            i -= 1
            j -= 1
            here -= 1
            continue
        left = j - 1 - (rows[i] & ((1 << (j - 1)) - 1)).bit_count()
        up = j - (rows[i - 1] & ((1 << j) - 1)).bit_count()
        if left > up:
            j -= 1
            here = left
        else:
            i -= 1
            here = up
    found.reverse()
    return found
