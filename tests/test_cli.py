"""The ``poselifter`` entry point: every command is listed, ``--help`` imports no command module,
and every option's help says what it does and its default."""
from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from poselifter_core.cli import COMMANDS, build_parser, command_help, requested_command
from poselifter_core.config import apply_overrides, load_yaml
from poselifter_core.pose2d.training import Train2DConfig
from poselifter_core.rosmsg.bag import BagConfig
from poselifter_core.tracking.evaluation import SequenceEvalConfig
from poselifter_core.train import TrainConfig

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


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every sub-command's parser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from _parsers(subparser)


def test_every_option_says_what_it_does_and_its_default():
    """A user reads the defaults in --help (they were missing for infer's thresholds, evaluate's
    --output, ...), and every option has a help line."""
    undocumented, no_default = [], []
    for parser in _parsers(build_parser("*")):
        text = parser.format_help()  # renders (a stray % in a help string would raise here)
        formatter = parser._get_formatter()
        for action in parser._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            name = f"{parser.prog} {action.option_strings[-1]}"
            if not action.help:
                undocumented.append(name)
            elif action.nargs != 0 and action.default not in (None, []) or isinstance(
                    action, argparse.BooleanOptionalAction):  # --x/--no-x: which one is in force (infer's flip)
                stated = formatter._get_help_string(action) or ""
                if "default" not in stated.lower():
                    no_default.append(name)
        assert "%(" not in text and "(default: )" not in text, parser.prog
    assert undocumented == [] and no_default == []
    infer = next(p for p in _parsers(build_parser("infer")) if p.prog == "poselifter infer").format_help()
    assert re.search(r"--min-joint-score MIN_JOINT_SCORE\s+a joint is observed .*\(default:\s+0\.3\)", infer, re.S)
    assert re.search(r"--no-lifter-flip-average\s+lift each person .*?\(default:\s+--lifter-flip-average\)", infer, re.S)
    bag = next(p for p in _parsers(build_parser("bag")) if p.prog == "poselifter bag").format_help()
    assert re.search(r"--tf-topic TOPIC .*?\(default: none\)", bag, re.S)  # an output: none, not "the one in the bag"
    benchmark = next(p for p in _parsers(build_parser("benchmark")) if p.prog == "poselifter benchmark").format_help()
    assert "(default: 256)" in benchmark and "(256, 0)" not in benchmark  # --pose2d-sizes as typed, not its tuple


def _train_demo() -> TrainConfig:
    return load_yaml(TrainConfig, Path(__file__).resolve().parents[1] / "config" / "train_demo.yaml")


#: The config that each command's --set applies to (the training commands': a documented config file).
SET_CONFIGS = {"poselifter train": _train_demo, "poselifter evaluate": _train_demo, "poselifter experiment": _train_demo,
               "poselifter bag": BagConfig, "poselifter evaluate-sequence": SequenceEvalConfig,
               "poselifter train-2d": Train2DConfig}


def test_each_set_example_names_keys_of_its_commands_config():
    """bag, evaluate-sequence and train-2d showed 'e.g. --set optim.epochs=5 --set lifter.width=512',
    which are not their settings."""
    examples = {}
    for parser in _parsers(build_parser("*")):
        action = next((a for a in parser._actions if "--set" in a.option_strings), None)
        if action is not None:
            examples[parser.prog] = shlex.split(re.search(r"e\.g\. (.*) \(repeatable\)", action.help).group(1))
    assert set(examples) == set(SET_CONFIGS)
    for prog, words in examples.items():
        overrides = words[1::2]
        assert words[::2] == ["--set"] * len(overrides) and overrides, prog
        apply_overrides(SET_CONFIGS[prog](), overrides)  # raises for a key the config does not have


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    """`poselifter fit-floor runs/v | head -1` ended in a BrokenPipeError traceback: the command's
    output reader left, which is no error of the command."""
    import json

    import numpy as np

    from conftest import camera_view, standing_person

    rng = np.random.default_rng(0)
    people = [camera_view(standing_person(1.0, rng.uniform(3, 12), side_m=rng.uniform(-3, 3)), 2.5, 15.0, 0.0)[0]
              for _ in range(40)]
    frames = [{"frame": i, "people": [{"joints_m": joints.tolist(), "valid": [True] * 17}]}
              for i, joints in enumerate(people)]
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(f) for f in frames) + "\n")
    child = subprocess.Popen([sys.executable, "-m", "poselifter_core", "fit-floor", str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # the reader is gone before anything is written
    stderr = child.stderr.read().decode()
    child.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
