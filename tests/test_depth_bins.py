"""The per-bin depth protocol and the body-size oracle (#18): poselifter_core.benchmark.depth_bins."""
import numpy as np
import pytest

from poselifter_core.benchmark.depth_bins import (
    bin_edges,
    body_size_mm,
    mean_with_2se,
    render_per_bin,
    size_oracle_root,
)
from poselifter_core.data.rig import RigConfig
from poselifter_core.data.world_mocap import load_world_mocap
from poselifter_core.skeleton import H36M17

from conftest import REST_POSE


def test_bin_edges_start_at_the_rig_minimum_and_follow_multiples_of_the_width():
    assert np.allclose(bin_edges(0.8, 20.0, 2.0), [0.8, *range(2, 21, 2)])
    assert np.allclose(bin_edges(2.0, 6.0, 2.0), [2.0, 4.0, 6.0])
    assert np.allclose(bin_edges(1.0, 5.0, 2.0), [1.0, 2.0, 4.0, 5.0])
    with pytest.raises(ValueError):
        bin_edges(5.0, 1.0, 2.0)


def test_render_per_bin_fills_every_bin_with_full_bodies_at_their_depth(mocap_file):
    clips = load_world_mocap(mocap_file, subjects=["s3"], every=4)
    rig = RigConfig(min_visible_joints=17)
    edges = bin_edges(0.8, 8.0, 2.0)
    data = render_per_bin(clips, rig, edges, per_bin=25, seed=7)
    depth = data.joints_3d[:, H36M17.root, 2] / 1000.0
    counts, _ = np.histogram(depth, edges)
    assert counts.tolist() == [25] * (len(edges) - 1)
    assert data.visible.all()  # full bodies: the rig's min_visible_joints still applies
    again = render_per_bin(clips, rig, edges, per_bin=25, seed=7)
    assert np.array_equal(again.keypoints_2d, data.keypoints_2d)  # seeded
    with pytest.raises(ValueError, match="0.8-2 m"):  # a bin the rig cannot fill is an error, not a short bin
        render_per_bin(clips, RigConfig(min_visible_joints=17, focal_px=(5000.0, 6000.0)), edges, 5, 0, max_rounds=2)


def test_size_oracle_places_a_body_of_the_wrong_size_at_the_true_root():
    truth = REST_POSE[None] + np.array([100.0, -200.0, 5000.0])  # camera frame, root at 5 m
    small = (REST_POSE - REST_POSE[0]) * 0.9  # the lifter's relative pose, 10 % small
    # the same rays, 10 % nearer: how a lifter that believes the small body places it
    predicted_root = truth[:, 0] * 0.9
    assert body_size_mm(small[None], H36M17)[0] == pytest.approx(0.9 * body_size_mm(truth, H36M17)[0])
    oracle = size_oracle_root(predicted_root, body_size_mm(small[None], H36M17), truth, H36M17)
    assert np.allclose(oracle, truth[:, 0])
    assert not np.allclose(size_oracle_root(predicted_root, 4000.0, truth, H36M17), truth[:, 0])


def test_mean_with_two_standard_errors():
    assert mean_with_2se(np.array([1.0, 3.0])) == "+2.0 ± 2.0"
    assert mean_with_2se(np.array([-1.0, -3.0]), signed=False) == "-2.0 ± 2.0"
    assert mean_with_2se(np.array([4.0])) == "+4.0 ± nan"
