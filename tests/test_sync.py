"""Timestamp synchronizer: matching rules, newest-frame-wins, latched streams, bounds and stats."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from poselifter_core.rosmsg.sync import Match, TimestampSynchronizer

MS = 1_000_000  # nanoseconds per millisecond


def image_and_info(**kwargs) -> TimestampSynchronizer:
    return TimestampSynchronizer(required=("image", "info"), **kwargs)


def test_exact_match_either_arrival_order():
    sync = image_and_info()
    assert sync.add("image", 100 * MS, "img") == []
    assert sync.add("info", 100 * MS, "cam") == [Match(100 * MS, {"image": "img", "info": "cam"})]
    sync = image_and_info()
    assert sync.add("info", 100 * MS, "cam") == []
    assert sync.add("image", 100 * MS, "img") == [Match(100 * MS, {"image": "img", "info": "cam"})]


def test_single_stream_emits_every_message():
    sync = TimestampSynchronizer(required=("image",))
    assert [m.stamp_ns for s in (1, 2, 3) for m in sync.add("image", s, s)] == [1, 2, 3]


def test_within_and_outside_slop():
    sync = image_and_info(slop_s=0.02)
    sync.add("image", 100 * MS, "img")
    assert sync.add("info", 121 * MS, "late") == []  # 21 ms away: outside
    match = sync.add("info", 80 * MS, "edge")  # exactly 20 ms away: inside
    assert match == [Match(100 * MS, {"image": "img", "info": "edge"})]


def test_closest_message_is_chosen_and_older_ones_are_consumed():
    sync = image_and_info(slop_s=0.02)
    sync.add("info", 85 * MS, "far")
    sync.add("info", 98 * MS, "near")
    sync.add("info", 130 * MS, "future")
    assert sync.add("image", 100 * MS, "img")[0].messages["info"] == "near"
    assert sync.stats["info"] == {"received": 3, "matched": 1, "overflow": 0, "unmatched": 1}
    assert sync.pending() == {"image": 0, "info": 1}  # "future" can still match a later image
    assert sync.add("image", 133 * MS, "img2")[0].messages["info"] == "future"


def test_out_of_order_arrival_newest_complete_set_wins():
    sync = image_and_info()
    for stamp in (300, 100, 200):  # images arrive out of order, no info yet
        assert sync.add("image", stamp * MS, f"img{stamp}") == []
    assert sync.add("info", 200 * MS, "cam200") == [Match(200 * MS, {"image": "img200", "info": "cam200"})]
    # img100 was superseded; img300 still waits.
    assert sync.stats["image"] == {"received": 3, "matched": 1, "overflow": 0, "unmatched": 1}
    assert sync.pending()["image"] == 1
    # An info for the superseded frame is too old to match anything now: discarded on arrival.
    assert sync.add("info", 100 * MS, "cam100") == []
    assert sync.stats["info"]["unmatched"] == 1 and sync.pending()["info"] == 0
    # An image older than the one emitted is never emitted (no going backwards).
    assert sync.add("image", 150 * MS, "img150") == []
    assert sync.stats["image"]["unmatched"] == 2
    assert sync.add("info", 300 * MS, "cam300")[0].messages == {"image": "img300", "info": "cam300"}


def test_latched_camera_info_is_used_whatever_its_stamp():
    sync = image_and_info(latched=("info",))
    assert sync.add("image", 5_000 * MS, "img0") == []  # waits for the first info
    assert sync.add("image", 5_016 * MS, "img1") == []
    # The first info completes both waiting images: only the newest is emitted.
    assert sync.add("info", 0, "cam-a") == [Match(5_016 * MS, {"image": "img1", "info": "cam-a"})]
    assert sync.stats["image"]["unmatched"] == 1
    # Later images reuse the latched info, far outside the slop.
    assert sync.add("image", 9_000 * MS, "img2")[0].messages == {"image": "img2", "info": "cam-a"}
    sync.add("info", 1, "cam-b")
    sync.add("info", 2, "cam-c")  # replaces cam-b before any use
    assert sync.add("image", 9_100 * MS, "img3")[0].messages["info"] == "cam-c"
    assert sync.stats["info"] == {"received": 3, "matched": 3, "overflow": 0, "unmatched": 1}
    assert sync.pending() == {"image": 0, "info": 1}


def test_60hz_burst_without_camera_info_stays_bounded():
    sync = image_and_info(latched=("info",), queue_size=10)
    period = round(1e9 / 60)
    for i in range(1000):
        assert sync.add("image", i * period, i) == []
        assert sync.pending()["image"] <= 10
    assert sync.stats["image"] == {"received": 1000, "matched": 0, "overflow": 990, "unmatched": 0}
    # When info finally comes, the newest frame is emitted and the rest discarded.
    assert sync.add("info", 0, "cam") == [Match(999 * period, {"image": 999, "info": "cam"})]
    assert sync.stats["image"] == {"received": 1000, "matched": 1, "overflow": 990, "unmatched": 9}
    assert sync.pending()["image"] == 0


def test_burst_of_unmatched_non_latched_stream_is_bounded():
    sync = TimestampSynchronizer(required=("image", "detections"), queue_size=5)
    for i in range(100):
        sync.add("detections", i * 1000 * MS, i)  # 1 s apart: never near an image
        sync.add("image", i * 1000 * MS + 500 * MS, i)
    assert sync.pending() == {"image": 5, "detections": 5}
    assert sync.stats["detections"]["overflow"] == 95 and sync.stats["image"]["overflow"] == 95


def test_optional_stream_present_absent_and_latched():
    sync = TimestampSynchronizer(
        required=("image", "info"), optional=("keypoints", "boxes"), latched=("info", "boxes")
    )
    sync.add("info", 0, "cam")
    sync.add("keypoints", 100 * MS, "kp100")
    assert sync.add("image", 101 * MS, "img")[0].messages == {"image": "img", "info": "cam", "keypoints": "kp100"}
    # Keypoints outside the slop: the set is emitted without them, without waiting.
    sync.add("keypoints", 150 * MS, "kp150")
    assert sync.add("image", 200 * MS, "img2")[0].messages == {"image": "img2", "info": "cam"}
    # A latched optional stream is included once anything has arrived.
    sync.add("boxes", 1, "box")
    assert sync.add("image", 300 * MS, "img3")[0].messages == {"image": "img3", "info": "cam", "boxes": "box"}
    assert sync.stats["keypoints"] == {"received": 2, "matched": 1, "overflow": 0, "unmatched": 1}


def test_concurrent_adds_lose_nothing():
    sync = image_and_info(latched=("info",), queue_size=10)
    sync.add("info", 0, "cam")
    matches: list[Match] = []
    lock = threading.Lock()

    def feed(offset: int) -> None:
        for i in range(500):
            found = sync.add("image", (i * 4 + offset + 1) * MS, i)
            with lock:
                matches.extend(found)

    threads = [threading.Thread(target=feed, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = sync.stats["image"]
    assert stats["received"] == 2000
    assert stats["matched"] == len(matches)
    assert stats["matched"] + stats["overflow"] + stats["unmatched"] + sync.pending()["image"] == 2000
    stamps = [m.stamp_ns for m in matches]
    assert len(stamps) == len(set(stamps))  # never twice (the threads' list order is not emission order)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(required=()), "at least one stream"),
        (dict(required=("image", "image")), "unique"),
        (dict(required=("image",), optional=("image",)), "unique"),
        (dict(required=("image", "")), "non-empty strings"),
        (dict(required=("image",), latched=("info",)), r"latched streams \['info'\]"),
        (dict(required=("image", "info"), latched=("image",)), "pivot stream 'image' cannot be latched"),
        (dict(required=("image",), slop_s=-0.1), "slop_s"),
        (dict(required=("image",), slop_s=float("nan")), "slop_s"),
        (dict(required=("image",), queue_size=0), "queue_size"),
        (dict(required=("image",), queue_size=2.5), "queue_size"),
    ],
)
def test_constructor_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TimestampSynchronizer(**kwargs)


def test_add_errors():
    sync = image_and_info()
    with pytest.raises(ValueError, match="unknown stream 'depth'"):
        sync.add("depth", 0, None)
    with pytest.raises(ValueError, match="integer nanoseconds"):
        sync.add("image", 1.5, None)


def test_numpy_integer_stamps_are_accepted():
    sync = image_and_info()
    sync.add("image", np.int64(10**18), "img")
    assert sync.add("info", np.int64(10**18), "cam")[0].stamp_ns == 10**18


S = 1_000_000_000  # nanoseconds per second


def test_a_future_stamp_is_rejected_and_does_not_block_later_frames():
    """Row 1: one image stamped a day ahead was emitted, then every later image was 'too old'."""
    from poselifter_core.rosmsg.sync import FUTURE_STAMPS, RESETS, SyncMonitor

    sync = TimestampSynchronizer(required=("image",), max_future_s=5.0, max_jump_back_s=1.0)
    monitor = SyncMonitor(sync)
    now = 1000 * S
    assert sync.add("image", now + 86400 * S, "tomorrow", now_ns=now) == []
    assert [m.messages["image"] for t in (1, 2, 3) for m in sync.add("image", now + t * MS, t, now_ns=now + t * MS)] \
        == [1, 2, 3]
    assert sync.time_events == {FUTURE_STAMPS: 1, RESETS: 0}
    assert monitor.check() == f"1 {FUTURE_STAMPS}" and monitor.check() == ""
    # Without a clock (now_ns None) or with the guard off, the stamp is taken as it comes.
    assert sync.add("image", now + 86400 * S, "tomorrow")[0].messages["image"] == "tomorrow"


def test_a_clock_jump_back_resets_and_is_reported():
    """Row 1: the clock stepping back 1 h (bag loop, sim time) left the synchronizer stuck."""
    from poselifter_core.rosmsg.sync import RESETS, SyncMonitor

    sync = TimestampSynchronizer(required=("image", "info"), max_jump_back_s=1.0)
    monitor = SyncMonitor(sync)
    hour = 3600 * S
    assert sync.add("image", 2 * hour, "a") == [] and sync.add("info", 2 * hour, "a") != []
    sync.add("info", 2 * hour + 50 * MS, "queued")  # waits for the next image: dropped by the reset
    assert sync.add("image", hour, "b") == []  # an hour back: reset, kept as the new start
    assert sync.add("info", hour, "b")[0].messages == {"image": "b", "info": "b"}
    assert sync.time_events[RESETS] == 1 and sync.stats["info"]["unmatched"] == 1
    assert monitor.check() == f"1 {RESETS}"
    # A small reordering is not a jump: the late image is only discarded.
    assert sync.add("image", hour - 500 * MS, "late") == [] and sync.time_events[RESETS] == 1


def test_monitor_reports_images_that_match_nothing():
    from poselifter_core.rosmsg.sync import SyncMonitor

    sync = image_and_info()
    monitor = SyncMonitor(sync)
    for t in range(3):
        sync.add("image", t * S, t)
    assert monitor.check() == "3 image messages received, none matched (check the stamps and the other streams)"
    sync.add("info", 2 * S, "cam")
    sync.add("image", 3 * S, 3)
    assert monitor.check() == ""


@pytest.mark.parametrize("bad", [{"max_future_s": -1.0}, {"max_jump_back_s": float("nan")}])
def test_time_guards_reject_bad_settings(bad):
    with pytest.raises(ValueError):
        TimestampSynchronizer(required=("image",), **bad)
