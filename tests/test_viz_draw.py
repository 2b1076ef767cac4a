"""The 2D drawing of cascade results (video frames, the node's debug image)."""
import numpy as np

from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeResult, Person3D, SkippedPerson
from poselifter_core.data.rig import RigConfig
from poselifter_core.head_location import HeadLocation
from poselifter_core.tracking.colours import person_colour
from poselifter_core.viz.poses import HEAD_ONLY_RGB, draw_2d


def _person(valid: np.ndarray) -> Person3D:
    keypoints = np.stack([np.linspace(40, 120, 17), np.linspace(30, 90, 17)], axis=1)
    joints = np.zeros((17, 3))
    return Person3D(keypoints_2d=keypoints, scores=np.ones(17), valid=valid, box=np.array([30.0, 20.0, 130.0, 100.0]),
                    score=0.9, joints_m=joints, root_m=np.array([0.0, 0.0, 3.0]), relative_m=joints,
                    canonical_depth=0.003, metric_depth=True)


def test_draw_2d_marks_joints_boxes_and_leaves_the_input_alone():
    image = np.zeros((120, 160, 3), np.uint8)
    valid = np.ones(17, bool)
    valid[5] = False
    result = CascadeResult([_person(valid)], Intrinsics(100.0, 100.0, 80.0, 60.0), False)
    drawn = draw_2d(image, result)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8 and image.max() == 0
    # The box outline in the first person's colour, a joint drawn at a valid and at an invalid
    # joint (hollow there).
    assert tuple(drawn[60, 30]) == tuple(round(255 * c) for c in person_colour("", 0))
    x, y = np.round(result.people[0].keypoints_2d[0]).astype(int)
    assert drawn[y, x].max() > 0
    x, y = np.round(result.people[0].keypoints_2d[5]).astype(int)
    assert drawn[y - 3:y + 4, x - 3:x + 4].max() > 0
    empty = draw_2d(image, CascadeResult([], Intrinsics(100.0, 100.0, 80.0, 60.0), False))
    assert empty.max() == 0


def test_draw_2d_marks_a_head_only_person_in_grey_at_its_head():
    head = HeadLocation(np.array([-0.3, -0.15, 1.5]), (1.2, 1.9), 0.18, 5)  # projects to (60, 50)
    skipped = SkippedPerson(np.array([40.0, 30.0, 100.0, 110.0]), 0.28, "fewer than 5 observed joints", "", head)
    result = CascadeResult([], Intrinsics(100.0, 100.0, 80.0, 60.0), False, skipped_people=[skipped])
    drawn = draw_2d(np.zeros((120, 160, 3), np.uint8), result)
    assert tuple(drawn[50, 60]) == HEAD_ONLY_RGB and tuple(drawn[80, 40]) == HEAD_ONLY_RGB  # dot, box
    no_head = CascadeResult([], result.intrinsics, False, skipped_people=[SkippedPerson(skipped.box, 0.28, "x")])
    assert draw_2d(np.zeros((120, 160, 3), np.uint8), no_head).max() == 0
    from poselifter_core.viz.poses import draw_top_view

    view = draw_top_view(result, 240)
    scale = (240 - 20) / RigConfig().distance_m[1]
    x, y = round(120 - 0.3 * scale), round(240 - 10 - 1.5 * scale)
    assert tuple(view[y, x]) == HEAD_ONLY_RGB


def test_top_view_draws_tracks_in_their_colour():
    from dataclasses import replace

    from poselifter_core.viz.poses import draw_top_view

    person = replace(_person(np.ones(17, bool)), root_m=np.array([1.0, 0.0, 6.0]), track_id="t3",
                     root_trail_m=np.array([[0.0, 0.0, 5.0], [1.0, 0.0, 6.0]]))
    view = draw_top_view(CascadeResult([person], Intrinsics(100.0, 100.0, 80.0, 60.0), False), 240)
    assert view.shape == (240, 240, 3) and view.dtype == np.uint8
    scale = (240 - 20) / RigConfig().distance_m[1]  # the view is as deep as the lifter's training range
    x, y = round(120 + 1.0 * scale), round(240 - 10 - 6.0 * scale)  # the root, a filled dot
    assert tuple(view[y, x]) == tuple(round(255 * c) for c in person_colour("t3", 0))


def test_top_view_shows_people_as_far_as_the_lifter_places_them():
    """vtest.avi's far pedestrians are lifted at 12-20 m (the rig trains to 20 m): they stay in the view."""
    from dataclasses import replace

    from poselifter_core.viz.poses import draw_top_view

    far = RigConfig().distance_m[1] - 1.0
    person = replace(_person(np.ones(17, bool)), root_m=np.array([0.0, 0.0, far]), track_id="t1")
    view = draw_top_view(CascadeResult([person], Intrinsics(100.0, 100.0, 80.0, 60.0), False), 240)
    y = round(240 - 10 - far * (240 - 20) / RigConfig().distance_m[1])
    assert 0 < y < 240 and tuple(view[y, 120]) == tuple(round(255 * c) for c in person_colour("t1", 0))


def test_top_view_marks_people_beyond_its_range_at_the_far_edge():
    """The gates accept people up to 60 m; one at 30 m was drawn off the picture (nothing visible)."""
    from dataclasses import replace

    from poselifter_core.viz.poses import draw_top_view

    depth = 1.5 * RigConfig().distance_m[1]
    person = replace(_person(np.ones(17, bool)), root_m=np.array([0.0, 0.0, depth]),
                     joints_m=_person(np.ones(17, bool)).relative_m + [0.0, 0.0, depth], track_id="t2")
    empty = draw_top_view(CascadeResult([], Intrinsics(100.0, 100.0, 80.0, 60.0), False), 240)
    view = draw_top_view(CascadeResult([person], Intrinsics(100.0, 100.0, 80.0, 60.0), False), 240)
    colour = np.array([round(255 * c) for c in person_colour("t2", 0)])
    changed = np.argwhere((view != empty).any(axis=2))
    assert len(changed) and changed[:, 0].max() < 30  # only near the far (top) edge
    assert (np.abs(view.astype(int) - colour).sum(axis=2) == 0).any()


def test_top_view_marks_people_beyond_its_range_on_a_wide_bearing_inside_the_picture():
    """A person beyond the view's depth at a bearing wider than the square view (39 degrees off
    the axis, in a 90-degree camera) is marked where their bearing leaves the view, at its side
    edge: at the far edge the ring and its label were off the picture (nothing drawn)."""
    from dataclasses import replace

    from poselifter_core.viz.poses import draw_top_view

    depth = 1.5 * RigConfig().distance_m[1]
    for side in (1.0, -1.0):
        root = np.array([side * 0.8 * depth, 0.0, depth])
        person = replace(_person(np.ones(17, bool)), root_m=root, joints_m=_person(np.ones(17, bool)).relative_m + root,
                         track_id="t4")
        empty = draw_top_view(CascadeResult([], Intrinsics(100.0, 100.0, 80.0, 60.0), False), 240)
        view = draw_top_view(CascadeResult([person], Intrinsics(100.0, 100.0, 80.0, 60.0), False), 240)
        colour = np.array([round(255 * c) for c in person_colour("t4", 0)])
        exact = np.argwhere((np.abs(view.astype(int) - colour).sum(axis=2) == 0))
        assert len(exact), side  # the ring is in the picture ...
        assert ((exact[:, 1] > 120) == (side > 0)).all()  # ... on the person's side
        changed = np.argwhere((view != empty).any(axis=2))
        assert (changed[:, 0] < 120).all()  # in the far half (nothing drawn at the camera)


def test_top_view_marks_a_head_only_person_beyond_its_range():
    """A head located at 30-45 m (the gates accept heads up to 60 m) was drawn wholly off the view;
    it is a grey ring where its bearing leaves the view."""
    from poselifter_core.viz.poses import draw_top_view

    depth = 1.8 * RigConfig().distance_m[1]
    head = HeadLocation(np.array([0.2 * depth, 0.0, depth]), (0.8 * depth, 1.25 * depth), 0.18, 5)
    skipped = SkippedPerson(np.array([40.0, 30.0, 100.0, 110.0]), 0.28, "fewer than 5 observed joints", "", head)
    result = CascadeResult([], Intrinsics(100.0, 100.0, 80.0, 60.0), False, skipped_people=[skipped])
    empty = draw_top_view(CascadeResult([], result.intrinsics, False), 240)
    changed = np.argwhere((draw_top_view(result, 240) != empty).any(axis=2))
    assert len(changed) and changed[:, 0].max() < 30 and (changed[:, 1] > 120).all()  # at the far edge, right
