"""The tracker's numpy assignment solver against scipy's (the reference it replaces, #16: importing
scipy.optimize cost seconds at every start)."""
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from poselifter_core.tracking.assignment import min_cost_assignment
from poselifter_core.tracking.association import INFEASIBLE


def test_the_minimum_cost_matches_scipy_on_random_rectangular_matrices_with_ties_and_infeasible_pairs():
    rng = np.random.default_rng(0)
    for trial in range(600):
        rows, columns = rng.integers(1, 9, size=2)
        cost = rng.random((rows, columns))
        if trial % 3 == 0:
            cost = np.round(cost * 3)  # many ties
        if trial % 5 == 0:
            cost[rng.random(cost.shape) < 0.3] = INFEASIBLE
        r, c = min_cost_assignment(cost)
        r_ref, c_ref = linear_sum_assignment(cost)
        assert len(r) == min(rows, columns) and len(set(r)) == len(r) and len(set(c)) == len(c)
        assert np.all(np.diff(r) > 0)  # row-sorted, like scipy
        assert cost[r, c].sum() == pytest.approx(cost[r_ref, c_ref].sum(), abs=1e-9), cost


def test_a_known_answer_and_bad_input():
    cost = np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])  # the classic example: 1 + 2 + 2
    r, c = min_cost_assignment(cost)
    assert r.tolist() == [0, 1, 2] and c.tolist() == [1, 0, 2]
    assert min_cost_assignment(np.zeros((0, 3)))[0].size == 0
    with pytest.raises(ValueError, match="finite"):
        min_cost_assignment(np.array([[np.inf, 1.0]]))


def test_a_single_row_or_column_takes_its_first_cheapest_pair_as_the_general_solver_does():
    row = np.array([[3.0, 1.0, 1.0, 2.0]])  # a tie: the first of the two
    assert [a.tolist() for a in min_cost_assignment(row)] == [[0], [1]]
    assert [a.tolist() for a in min_cost_assignment(row.T)] == [[1], [0]]
    assert [a.tolist() for a in min_cost_assignment(np.array([[5.0]]))] == [[0], [0]]
