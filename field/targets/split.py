"""Splitting a target into parts that add up to it exactly, to the fen (largest remainder).

Each part gets the whole fen of its share of the total by weight; the fen left over go one each to the
parts with the largest remainders (ties: the larger weight, then the order given). Integers throughout:
amounts in minor units, weights in minor units of last year's sales."""
from __future__ import annotations

from typing import Hashable


def largest_remainder(total: int, weights: dict[Hashable, int]) -> dict[Hashable, int]:
    """`total` split over the keys of `weights` in proportion to them; with no weight at all, evenly.

    The parts are whole numbers and add up to `total`. No keys: nothing to split into ({})."""
    if total < 0:
        raise ValueError("negative total")
    if not weights:
        return {}
    if any(w < 0 for w in weights.values()):
        raise ValueError("negative weight")
    keys = list(weights)
    whole = sum(weights.values())
    if whole == 0:
        weights, whole = {k: 1 for k in keys}, len(keys)
    parts, remainders = {}, []
    for order, key in enumerate(keys):
        part, rest = divmod(total * weights[key], whole)
        parts[key] = part
        remainders.append((-rest, -weights[key], order, key))
    left = total - sum(parts.values())
    for _rest, _weight, _order, key in sorted(remainders)[:left]:
        parts[key] += 1
    return parts
