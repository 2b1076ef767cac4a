"""The 2D drawing of cascade results (video frames, the node's debug image)."""
import numpy as np
import pytest

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


def test_top_view_places_people_outside_it_on_their_bearing_at_its_edge():
    """The square view is about 27 degrees wide either side of the axis; a camera's field of view
    is often wider. Whatever the bearing and depth, a position is placed inside the picture."""
    from poselifter_core.viz.poses import TopViewFrame

    frame = TopViewFrame(240, 20.0)
    assert frame.place(1.0, 6.0)[1] and np.allclose(frame.place(1.0, 6.0)[0], frame.pixel(1.0, 6.0))
    for x, z in ((12.0, 15.0), (-12.0, 15.0), (30.0, 2.0), (0.0, 45.0), (50.0, 40.0), (-3.0, 21.0)):
        at, inside = frame.place(x, z)
        assert not inside, (x, z)
        assert frame.EDGE_PX - 1e-9 <= at[0] <= 240 - frame.EDGE_PX + 1e-9 and 10 - 1e-9 <= at[1] <= 230, (x, z, at)
        dx, dz = at[0] - 120, 230 - at[1]  # on the person's bearing
        assert np.isclose(np.arctan2(dx, dz), np.arctan2(x, z)), (x, z, at)


@pytest.mark.parametrize("depth_of_range", [0.75, 1.5])
def test_top_view_marks_people_on_a_wide_bearing_inside_the_picture(depth_of_range):
    """A person at a bearing wider than the square view (39 degrees off the axis, in a 90-degree
    camera) is marked where their bearing leaves the view, at its side edge, with their depth:
    within the view's depth the skeleton was drawn off the picture, beyond it the ring and its label
    (nothing drawn either way)."""
    from dataclasses import replace

    from poselifter_core.viz.poses import draw_top_view

    depth = depth_of_range * RigConfig().distance_m[1]
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


@pytest.mark.parametrize("pitch, roll", [(39.0, 5.5), (90.0, 0.0), (0.0, -10.0)])
def test_with_the_mount_the_views_are_levelled_on_the_floor(tmp_path, pitch, roll):
    """vtest.avi with its fitted mount (8 m, 39 deg down): the top view drew each standing person as
    a line 1.1 m long toward the camera (their height seen along the tilted optical axis) and the
    3D view's '-y (m, up)' put farther people higher, on a floor rising 4 m over 16 m. Given the
    floor, both views are of the levelled camera frame: a standing person's head is above their
    feet, at their height above the floor, and the top view shows a footprint."""
    from dataclasses import replace

    from poselifter_core.floor import ANKLES, FloorPlane
    from poselifter_core.viz.poses import draw_top_view, level_rotation, plot_3d

    from conftest import camera_view, standing_person

    height = 8.0
    world = standing_person(1.0, 10.0, side_m=1.0)
    camera, _ = camera_view(world, height, pitch, roll)
    levelled = camera @ level_rotation(FloorPlane.from_mount(height, pitch, roll)).T
    np.testing.assert_allclose(height - levelled[:, 1], world[:, 1], atol=1e-9)  # heights above the floor
    np.testing.assert_allclose(np.hypot(levelled[:, 0], levelled[:, 2]), np.hypot(world[:, 0], world[:, 2]),
                               atol=1e-9)  # distances along the floor
    head, feet = levelled[10], levelled[list(ANKLES)].mean(axis=0)
    assert np.hypot(*(head - feet)[[0, 2]]) < 0.3  # upright: the head above the feet

    person = replace(_person(np.ones(17, bool)), joints_m=camera, root_m=camera[0], track_id="t1")
    result = CascadeResult([person], Intrinsics(800.0, 800.0, 640.0, 360.0), False)
    colour = np.array([round(255 * c) for c in person_colour("t1", 0)])

    def footprint(view: np.ndarray) -> float:  # extent of the person's colour along the picture's depth axis [px]
        rows = np.flatnonzero((np.abs(view.astype(int) - colour).sum(axis=2) < 60).any(axis=1))
        return float(np.ptp(rows)) if len(rows) else 0.0

    level = footprint(draw_top_view(result, 960, floor=FloorPlane.from_mount(height, pitch, roll)))
    scale = (960 - 20) / RigConfig().distance_m[1]
    label = 16  # the id's label above the root, in the person's colour [px]
    assert level < label + 0.6 * scale  # a footprint (a stride), not the person's height
    if pitch >= 39.0:  # the camera frame: stretched along z by the height seen along the tilted axis
        stretched = footprint(draw_top_view(result, 960))
        assert stretched > 0.85 * scale and stretched > level + 0.4 * scale
    assert plot_3d(result, tmp_path / "3d.png", floor=FloorPlane.from_mount(height, pitch, roll)).is_file()
