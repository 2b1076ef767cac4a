"""Minimum-cost assignment of a small rectangular cost matrix (tracks x people), in numpy.

The tracker matches a few tracks to a few people per frame (at most ``plausibility.max_people``
each). ``scipy.optimize.linear_sum_assignment`` solves that in microseconds, but importing
``scipy.optimize`` took 0.6-2.9 s of every ``infer``, ``bag`` and node start on the 2-core
machine (#16: a tenth of a 300-frame ``infer``), more than all the assignments of a video cost
here. This is the Hungarian algorithm with potentials and shortest augmenting paths (Kuhn-Munkres
in the Jonker-Volgenant form), one row at a time, its inner loop vectorised over the columns:
O(n^2 m) elementary steps for n <= m, well under a millisecond at 20 x 20.
"""
from __future__ import annotations

import numpy as np


def min_cost_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices (row-sorted) of a minimum-cost matching that covers the smaller side
    of a finite (n, m) ``cost`` matrix, like ``scipy.optimize.linear_sum_assignment``."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or not np.isfinite(cost).all():
        raise ValueError(f"the cost matrix must be 2-D and finite, got shape {cost.shape}")
    if cost.size and 1 in cost.shape:  # one track or one person (most frames): the cheapest pair, as the loop picks it
        best, first = np.array([int(np.argmin(cost))]), np.zeros(1, dtype=np.int64)
        return (first, best) if cost.shape[0] == 1 else (best, first)
    if cost.shape[0] > cost.shape[1]:
        columns, rows = min_cost_assignment(cost.T)
        order = np.argsort(rows)
        return rows[order], columns[order]
    n, m = cost.shape
    row_potential, column_potential = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, dtype=np.int64)  # owner[j]: 1-based row matched to column j (0: none); column 0 is the root
    previous = np.zeros(m + 1, dtype=np.int64)  # the column before j on the shortest path
    for row in range(1, n + 1):
        owner[0], column = row, 0
        distance = np.full(m + 1, np.inf)
        visited = np.zeros(m + 1, dtype=bool)
        while owner[column] != 0:
            visited[column] = True
            reduced = cost[owner[column] - 1] - row_potential[owner[column]] - column_potential[1:]
            open_ = ~visited[1:]
            closer = open_ & (reduced < distance[1:])
            distance[1:][closer] = reduced[closer]
            previous[1:][closer] = column
            candidates = np.where(open_, distance[1:], np.inf)
            nearest = int(np.argmin(candidates)) + 1
            delta = candidates[nearest - 1]
            row_potential[owner[visited]] += delta
            column_potential[visited] -= delta
            distance[1:][open_] -= delta
            column = nearest
        while column:  # augment along the path back to the root
            owner[column] = owner[previous[column]]
            column = previous[column]
    matched = np.flatnonzero(owner[1:]) + 1
    rows = owner[matched] - 1
    order = np.argsort(rows)
    return rows[order], matched[order] - 1
