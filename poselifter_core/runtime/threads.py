"""The process's one thread policy for ONNX Runtime sessions (every model: 2D stage and lifter).

By default each ONNX Runtime session owns an intra-op pool whose threads *spin* (busy-wait) for
a while after every run. On a small CPU that is costly twice over: the cascade runs MoveNet and
then the lifter, so one session's pool burns cores while the other works, and any other job on
the machine loses those cores too (#16 measured 80 CPU ms per cascade frame with spinning and 42
without, same wall time). The policy here:

* intra-op threads: the physical cores this process may use (hyper-threads share the FMA units
  and only add synchronisation), or the configured number;
* one inter-op thread, sequential execution (the models are chains; nothing runs in parallel);
* spinning off, so an idle pool sleeps: the sessions of a process run one after the other and
  never compete, whatever their number.

Configure it with :func:`set_thread_policy` (the CLI's ``--threads``) or the environment
(``POSELIFTER_ORT_THREADS``: intra-op threads, 0 = physical cores; ``POSELIFTER_ORT_SPINNING``:
1 to let pools spin). The policy in force is logged once per process, when the first session is
made.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace

LOG = logging.getLogger(__name__)

THREADS_ENV = "POSELIFTER_ORT_THREADS"
SPINNING_ENV = "POSELIFTER_ORT_SPINNING"


def physical_cores() -> int:
    """Physical cores this process may run on (``/proc/cpuinfo`` core ids), at least 1."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    cores: set[tuple[str, str]] = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            processor, package = None, "0"
            for line in stream:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "processor":
                    processor = int(value)
                elif key == "physical id":
                    package = value
                elif key == "core id" and processor in allowed:
                    cores.add((package, value))
    except (OSError, ValueError):
        pass
    return max(1, len(cores) or len(allowed))


@dataclass(frozen=True)
class ThreadPolicy:
    """``intra_op_threads`` 0 means the physical cores; ``allow_spinning`` lets idle pools busy-wait."""

    intra_op_threads: int = 0
    inter_op_threads: int = 1
    allow_spinning: bool = False

    def __post_init__(self) -> None:
        if self.intra_op_threads < 0 or self.inter_op_threads < 1:
            raise ValueError(f"thread counts must be >= 0 (intra, 0 = physical cores) and >= 1 (inter), got "
                             f"{self.intra_op_threads}, {self.inter_op_threads}")

    @property
    def intra_threads(self) -> int:
        """The intra-op thread count sessions get."""
        return self.intra_op_threads or physical_cores()

    @classmethod
    def from_environment(cls) -> "ThreadPolicy":
        threads, spinning = os.environ.get(THREADS_ENV, "0"), os.environ.get(SPINNING_ENV, "0")
        try:
            return cls(intra_op_threads=int(threads), allow_spinning=spinning.strip().lower() in ("1", "true", "yes"))
        except ValueError as error:
            raise ValueError(f"{THREADS_ENV}={threads!r}: {error}") from error

    def describe(self) -> str:
        cores = physical_cores()
        return (f"{self.intra_threads} intra-op thread(s) ({'configured' if self.intra_op_threads else 'physical cores'};"
                f" {cores} physical core(s) available), {self.inter_op_threads} inter-op, spinning "
                f"{'on' if self.allow_spinning else 'off'}")


_policy: ThreadPolicy | None = None
_logged = False


def set_thread_policy(policy: ThreadPolicy | None = None, **changes: int | bool) -> ThreadPolicy:
    """Set the policy of sessions made from now on (``policy``, or the current one with
    ``changes``, e.g. ``set_thread_policy(intra_op_threads=1)``); returns it."""
    global _policy, _logged
    _policy = replace(policy or thread_policy(), **changes)
    _logged = False
    return _policy


def thread_policy() -> ThreadPolicy:
    """The policy in force: the one set, else the environment's."""
    global _policy
    if _policy is None:
        _policy = ThreadPolicy.from_environment()
    return _policy


def session_options(threads: int | None = None):
    """ONNX Runtime session options under the policy; ``threads`` overrides the intra-op count
    for one session (benchmarks that compare thread counts)."""
    import onnxruntime as ort

    global _logged
    policy = thread_policy()
    if not _logged:
        LOG.info("ONNX Runtime thread policy: %s", policy.describe())
        _logged = True
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or policy.intra_threads
    options.inter_op_num_threads = policy.inter_op_threads
    spinning = "1" if policy.allow_spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
    options.add_session_config_entry("session.inter_op.allow_spinning", spinning)
    options.log_severity_level = 3  # errors only; fallbacks are reported by this package
    return options
