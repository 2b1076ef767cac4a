"""``poselifter <command>``: the one command-line entry point of the core.

Each command lives in its own module of this package with a ``register(subparsers)`` function
that adds its parser and sets ``func``; :data:`COMMANDS` lists them in ``--help`` order.

Only the module of the command being run is imported (the others pull in torch, onnxruntime,
rosbags, matplotlib...). The one-line help that ``poselifter --help`` shows for every command is
read from the ``help=`` of its module's ``add_parser`` call without importing the module.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import logging
import os
import sys
from pathlib import Path

COMMANDS: tuple[str, ...] = (
    "train",
    "evaluate",
    "evaluate-sequence",
    "experiment",
    "benchmark",
    "infer",
    "bag",
    "video-bag",
    "data",
    "fit-error-model",
    "fit-floor",
    "plot-error-model",
    "train-2d",
    "export",
    "build-engine",
)


def _module(command: str) -> str:
    return command.replace("-", "_")


def command_help(command: str) -> str:
    """The ``help=`` string of ``add_parser(command, ...)`` in the command's module, read with ``ast``."""
    path = Path(__file__).with_name(f"{_module(command)}.py")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_parser"
                and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == command):
            for keyword in node.keywords:
                if keyword.arg == "help" and isinstance(keyword.value, ast.Constant):
                    return keyword.value.value
    raise ValueError(f"{path.name}: no add_parser({command!r}, help='...') call")


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Ends an option's help with its default, unless the help already says it or there is none
    to state (no value, a flag, a positional argument); an on/off pair (``--x``/``--no-x``) states
    the one in force."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if isinstance(action, argparse.BooleanOptionalAction) and isinstance(default, bool) and action.help \
                and "default" not in text.lower():
            return f"{text} (default: {action.option_strings[0 if default else 1]})"
        if (not action.option_strings or action.nargs == 0 or default in (None, argparse.SUPPRESS, [])
                or "default" in text.lower()):
            return action.help
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default) or "''"
        return f"{text} (default: {shown.replace('%', '%%')})"


class RawDescriptionDefaultsHelpFormatter(DefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """:class:`DefaultsHelpFormatter` for a parser whose description is laid out by hand."""


def state_defaults(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and its sub-commands' parsers the :class:`DefaultsHelpFormatter` (keeping a
    hand-made description layout)."""
    raw = issubclass(parser.formatter_class, argparse.RawDescriptionHelpFormatter)
    parser.formatter_class = RawDescriptionDefaultsHelpFormatter if raw else DefaultsHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                state_defaults(subparser)


def requested_command(argv: list[str]) -> str | None:
    """The command named in ``argv`` (the first argument that is not an option), if it is one."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command listed; only ``command``'s module is imported for its options
    (all of them when ``command`` is ``"*"``)."""
    parser = argparse.ArgumentParser(
        prog="poselifter",
        description=(
            "Absolute 3D human pose from a single RGB camera (PoseLifter). "
            "Run 'poselifter <command> --help' for a command's options."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name in COMMANDS:
        if command in (name, "*"):
            importlib.import_module(f"{__name__}.{_module(name)}").register(subparsers)
        else:
            subparsers.add_parser(name, help=command_help(name))
    state_defaults(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(requested_command(argv)).parse_args(argv)
    args.command_line = ["poselifter", *argv]  # for the run's record (run_record.py)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from ..runtime.backend import BackendError

    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # stdout's reader left (`poselifter fit-floor runs/v | head -2`): no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor one when Python flushes at exit
        return 1
    except (ValueError, FileNotFoundError, KeyError, BackendError) as error:
        if args.verbose:
            raise
        print(f"poselifter {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
