"""The ``poselifter`` entry point: every command is listed, and ``--help`` imports no command module."""
from __future__ import annotations

import subprocess
import sys

import pytest

from poselifter_core.cli import COMMANDS, build_parser, command_help, requested_command

HEAVY = ("torch", "onnx", "onnxruntime", "rosbags", "matplotlib", "scipy")


def test_the_listed_help_is_the_one_each_command_registers():
    full = build_parser("*")
    choices = full._subparsers._group_actions[0]._choices_actions  # one per command, in order
    assert [action.dest for action in choices] == list(COMMANDS)
    for action in choices:
        assert action.help == command_help(action.dest)


@pytest.mark.parametrize("argv, command", [(["train", "--config", "x.yaml"], "train"), (["-v", "bag", "a", "b"], "bag"),
                                           (["--help"], None), (["nonsense"], None), ([], None)])
def test_requested_command(argv, command):
    assert requested_command(argv) == command


def test_help_imports_no_command_module():
    code = ("import sys\nfrom poselifter_core.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith('poselifter_core.cli.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert all(name in result.stdout for name in COMMANDS)
    assert result.stdout.strip().splitlines()[-1] == "[] []"


def test_a_command_imports_only_its_module():
    code = ("import sys\nfrom poselifter_core.cli import main\ntry:\n    main(['data', '--help'])\nexcept SystemExit:\n"
            "    pass\nprint(sorted(m for m in sys.modules if m.startswith('poselifter_core.cli.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "convert" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "['poselifter_core.cli.data']"
