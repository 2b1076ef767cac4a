"""The process-wide ONNX Runtime thread policy: defaults, configuration, one log line."""
import logging

import pytest

from poselifter_core.runtime import threads
from poselifter_core.runtime.threads import ThreadPolicy, physical_cores, session_options, set_thread_policy


@pytest.fixture(autouse=True)
def fresh_policy(monkeypatch):
    monkeypatch.setattr(threads, "_policy", None)
    monkeypatch.setattr(threads, "_logged", False)
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    monkeypatch.delenv(threads.SPINNING_ENV, raising=False)


def test_default_is_physical_cores_one_inter_op_thread_no_spinning():
    options = session_options()
    assert options.intra_op_num_threads == physical_cores() >= 1
    assert options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"


def test_environment_and_setter_configure_it(monkeypatch):
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    monkeypatch.setenv(threads.SPINNING_ENV, "1")
    options = session_options()
    assert options.intra_op_num_threads == 3
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    set_thread_policy(intra_op_threads=1)  # the setter wins over the environment, keeps the rest
    assert session_options().intra_op_num_threads == 1
    assert threads.thread_policy().allow_spinning
    assert session_options(threads=2).intra_op_num_threads == 2  # one session's override


def test_bad_settings_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="thread counts"):
        ThreadPolicy(intra_op_threads=-1)
    monkeypatch.setenv(threads.THREADS_ENV, "many")
    with pytest.raises(ValueError, match=threads.THREADS_ENV):
        session_options()


def test_policy_is_logged_once(caplog):
    with caplog.at_level(logging.INFO, logger=threads.__name__):
        session_options()
        session_options()
    lines = [r.getMessage() for r in caplog.records if "thread policy" in r.getMessage()]
    assert len(lines) == 1 and "spinning off" in lines[0]
