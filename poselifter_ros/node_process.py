"""Run the installed ``pose3d_node`` in its own process, as ``ros2 run`` would: for the node tests
and the latency benchmark (the launch file cannot run where ``launch`` is not installed)."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

PACKAGE = "poselifter_ros"
EXECUTABLE = "pose3d_node"


def installed_executable(package: str = PACKAGE, name: str = EXECUTABLE) -> Path:
    """``lib/<package>/<name>`` under the AMENT_PREFIX_PATH prefixes, found as ``ros2 run`` finds it."""
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        candidate = Path(prefix) / "lib" / package / name
        if prefix and candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{package}/{name} is not installed in AMENT_PREFIX_PATH: build the workspace "
                            "(make ros) and source its setup.bash")


def ros_arguments(params_file: Path, parameters: dict[str, Any], remaps: dict[str, str]) -> list[str]:
    """``--ros-args`` for a params file, parameter overrides (``-p``) and remappings (``-r``)."""
    args = ["--ros-args", "--params-file", str(params_file)]
    for name, value in parameters.items():
        args += ["-p", f"{name}:={str(value).lower() if isinstance(value, bool) else value}"]
    for source, target in remaps.items():
        args += ["-r", f"{source}:={target}"]
    return args


class NodeProcess:
    """The installed node in a child process, its output in ``log_path``; stopped with SIGINT."""

    def __init__(self, params_file: Path, parameters: dict[str, Any], remaps: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")
        command = [str(installed_executable())] + ros_arguments(params_file, parameters, remaps)
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text()

    def rss_kib(self) -> int:
        """Resident memory of the node process (Linux /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for process {self.pid}")

    def stop(self, timeout_s: float = 15.0) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode
