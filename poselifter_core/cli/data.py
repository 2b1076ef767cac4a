"""``poselifter data ...``: bring motion capture into the H36M-17 world format the rig trains on.

* ``convert SRC... -o out.npz``: BVH / ASF+AMC files or folders -> one npz + JSON sidecar.
* ``merge A.npz B.npz... -o out.npz``: join converted sets (clip ids must be unique).
* ``info SET.npz``: the per-source table (subjects, clips, frames, hours, licence) and split sizes.
* ``coverage OLD.npz NEW.npz -o fig.png``: pose-coverage picture of two sets.

``convert`` and ``merge`` keep each recording once: a clip whose source file (line endings aside)
another clip under another id also holds is dropped, printed and listed in the sidecar's
``dropped_duplicates`` (which copy stays: :func:`poselifter_core.mocap.identity.copies_to_drop`);
``merge`` keeps its inputs' ``dropped_duplicates`` there too.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tqdm import tqdm

from ..mocap.convert import (
    CMU_LICENCE,
    ConvertOptions,
    convert_file,
    find_sources,
    keep_each_recording_once,
    load_clips,
    load_dropped,
    merge_clips,
    save_clips,
)
from ..mocap.mapping import packaged_mappings

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="convert, merge and inspect motion capture (BVH, ASF/AMC) for training",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="data_command", metavar="<data command>", required=True)

    convert = commands.add_parser(
        "convert", help="BVH / ASF+AMC -> H36M-17 world joints (mm, Y up) npz + JSON sidecar",
        description=(
            "Parse BVH (any hierarchy and Euler order) or ASF/AMC files, run forward kinematics, map "
            "to Human3.6M-17 joints in millimetres (world frame, Y up), subsample by rate and by "
            "motion, and write one npz of clips plus a JSON sidecar with per-clip metadata "
            "(subject, split, source, licence, frame counts, bone-length statistics)."
        ),
    )
    convert.add_argument("sources", nargs="+", metavar="SRC", help=".bvh / .amc files or folders (searched recursively)")
    convert.add_argument("-o", "--output", required=True, help="output .npz (a .json sidecar is written beside it)")
    convert.add_argument("--mapping", default=None,
                         help=f"joint mapping: a packaged name ({', '.join(packaged_mappings())}) or a YAML "
                              "file; default: the first packaged mapping whose joints the file has")
    convert.add_argument("--fps", type=float, default=30.0, help="resample to this rate first (0: keep the source rate; default 30)")
    convert.add_argument("--min-motion", type=float, default=10.0, metavar="MM",
                         help="then drop a frame whose root-relative joints all moved less than MM mm since the "
                              "last kept frame (0: keep all; default 10)")
    convert.add_argument("--unit", default=None,
                         help="file length unit, overriding the mapping's: mm, cm, m, inch, cmu (inch/0.45), "
                              "file (ASF :units), auto, or mm per unit as a number")
    convert.add_argument("--drop-first", type=int, default=0, metavar="N",
                         help="discard the first N frames of each file (e.g. a prepended T-pose)")
    convert.add_argument("--source", default="", help="provenance recorded per clip, e.g. owner/repo@commit")
    convert.add_argument("--licence", default="unspecified",
                         help="licence recorded per clip ('cmu' for the CMU database terms)")
    convert.add_argument("--subject", default=None, help="subject id for every file (default: from the file name)")
    convert.add_argument("--subject-prefix", default="cmu",
                         help="subject ids are <prefix>_<number from the file name> (default cmu -> cmu_01)")
    convert.add_argument("--subject-pattern", default=r"^(\d+)_",
                         help="regex whose group 1 in the file stem is the subject (default '^(\\d+)_')")
    convert.add_argument("--clip-prefix", default="", help="prefix for clip ids (clip id = prefix + file stem)")
    convert.add_argument("--clip-pattern", default=None,
                         help=r"regex whose group 1 in the file stem names the clip (e.g. '^(\d+_\d+)' turns "
                              "135_06-martialArts into 135_06); default: the whole stem")
    convert.add_argument("--asf", default=None, help="ASF skeleton for .amc files (default: <subject>.asf beside them)")
    convert.add_argument("--dtype", choices=("float32", "float16"), default="float32", help="stored precision")
    convert.add_argument("--keep-going", action="store_true", help="skip (and report) files that fail instead of stopping")
    convert.set_defaults(func=run_convert)

    merge = commands.add_parser("merge", help="join converted sets into one",
                                description="Join converted sets; clip ids must be unique unless --keep-first. "
                                            "A recording held under several clip ids (the same source file, line "
                                            "endings aside, e.g. one trial relabelled as another subject) is kept "
                                            "once: under the subject with the most clips; the dropped copies are "
                                            "printed and listed in the sidecar's dropped_duplicates, after those "
                                            "the inputs' sidecars list.")
    merge.add_argument("inputs", nargs="+", metavar="SET.npz")
    merge.add_argument("--keep-first", action="store_true",
                       help="a clip id found in several sets is kept from the first set listed and dropped "
                            "from the others (list the preferred release first); the dropped ids are printed")
    merge.add_argument("-o", "--output", required=True, help="output .npz (a .json sidecar is written beside it)")
    merge.add_argument("--dtype", choices=("float32", "float16"), default="float32", help="coordinate type of the output")
    merge.add_argument("--round-mm", type=float, default=None, metavar="MM",
                       help="round coordinates to multiples of MM (0.125: a third smaller file, error <= 0.0625 mm)")
    merge.set_defaults(func=run_merge)

    info = commands.add_parser("info", help="per-source table and split sizes of a converted set",
                               description="Print a markdown table per source (subjects, clips, frames, hours, licence) and per split.")
    info.add_argument("input", metavar="SET.npz")
    info.set_defaults(func=run_info)

    coverage = commands.add_parser("coverage", help="pose-coverage figure of two sets",
                                   description="Plot a 2D PCA embedding and joint-angle histograms of two sets (e.g. old vs new).")
    coverage.add_argument("old", metavar="OLD.npz")
    coverage.add_argument("new", metavar="NEW.npz")
    coverage.add_argument("-o", "--output", required=True, help="output .png")
    coverage.add_argument("--labels", nargs=2, default=("old", "new"), metavar=("OLD", "NEW"),
                          help="names of the two sets in the figure")
    coverage.set_defaults(func=run_coverage)


def run_convert(args: argparse.Namespace) -> int:
    options = ConvertOptions(
        mapping=args.mapping, fps=args.fps, min_motion_mm=args.min_motion,
        unit=_unit(args.unit), drop_first=args.drop_first, source=args.source,
        licence=CMU_LICENCE if args.licence == "cmu" else args.licence, subject=args.subject,
        subject_prefix=args.subject_prefix, subject_pattern=args.subject_pattern,
        clip_prefix=args.clip_prefix, clip_pattern=args.clip_pattern, asf=args.asf,
    )
    if args.fps < 0 or args.min_motion < 0 or args.drop_first < 0:
        raise ValueError("--fps, --min-motion and --drop-first must not be negative")
    files = find_sources(args.sources)
    roots = [Path(s) for s in args.sources if Path(s).is_dir()]
    clips, failed = [], []
    for path in tqdm(files, desc="convert", unit="file"):
        root = next((r for r in roots if path.is_relative_to(r)), None)
        try:
            clips.append(convert_file(path, options, root))
        except (ValueError, KeyError, FileNotFoundError) as error:
            if not args.keep_going:
                raise
            failed.append(path)
            log.warning("skipped %s: %s", path, error)
    if not clips:
        raise ValueError("no file converted")
    clips, dropped = keep_each_recording_once(clips)
    for duplicate in dropped:
        print(duplicate)
    save_clips(args.output, clips, args.dtype, dropped=dropped)
    frames = sum(c.info["frames"] for c in clips)
    print(f"wrote {args.output}: {len(clips)} clips, {frames} frames" + (f", {len(failed)} files skipped" if failed else ""))
    return 1 if failed else 0


def _unit(value: str | None) -> str | float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def run_merge(args: argparse.Namespace) -> int:
    clips, dropped = merge_clips([load_clips(path) for path in args.inputs], keep_first=args.keep_first)
    for duplicate in dropped:
        print(duplicate)
    earlier = [record for path in args.inputs for record in load_dropped(path)]  # dropped when the inputs were made
    save_clips(args.output, clips, args.dtype, round_mm=args.round_mm, dropped=[*earlier, *dropped])
    print(f"wrote {args.output}: {len(clips)} clips, {sum(len(c.joints) for c in clips)} frames")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from ..mocap.summary import summary_tables

    print(summary_tables(load_clips(args.input)))
    return 0


def run_coverage(args: argparse.Namespace) -> int:
    from ..mocap.coverage import coverage_figure

    coverage_figure(load_clips(args.old), load_clips(args.new), args.output, tuple(args.labels))
    print(f"wrote {args.output}")
    return 0
