"""``poselifter plot-error-model``: figures of a 2D error model, with the errors it was fitted to."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..noise.error_model import ErrorModel
from ..noise.errors import errors_from_files
from ..viz.error_model_plots import write_joint_plots, write_parameter_summary, write_summary_histograms

DESCRIPTION = """\
Draw an error model written by 'poselifter fit-error-model' (or the shipped default).
Always writes summary_parameters.png (per-joint inlier std of the mixture and of the single
Gaussian, and the outlier fraction 1 - gamma). With --pred and --gt (same formats as
fit-error-model) it also writes, as in the paper's Figure 5, one PNG per joint and axis with the
error histogram, the single Gaussian (dashed) and the mixture (solid), and
summary_histograms.png with all joints on a log scale. Errors are in units of the person's 2D
scale sigma (eq. 4)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot-error-model", help="plot a 2D error model and the error histograms it was fitted to",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", help="error model file (.yaml or .json)")
    parser.add_argument("--pred", metavar="FILE", help="2D detections (.npz/.json), to draw histograms")
    parser.add_argument("--gt", metavar="FILE", help="2D ground truth for the same frames")
    parser.add_argument("--visibility", metavar="FILE", help="(N, J) mask of joints to use, as in fit-error-model")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the PNG files")
    parser.add_argument("--bins", type=int, default=100, help="histogram bins per plot (default %(default)s)")
    parser.add_argument("--range", type=float, dest="half_range", metavar="R",
                        help="plot errors in [-R, R] sigma (default: 6 inlier stds, at most the window)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (args.pred is None) != (args.gt is None):
        raise ValueError("give both --pred and --gt (or neither, for the parameter summary only)")
    if args.bins < 1 or (args.half_range is not None and args.half_range <= 0):
        raise ValueError("--bins and --range must be positive")
    model = ErrorModel.load(args.model)
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [write_parameter_summary(model, out_dir / "summary_parameters.png")]
    if args.pred is not None:
        errors, valid, _ = errors_from_files(args.pred, args.gt, args.visibility, model.skeleton)
        written += write_joint_plots(errors, valid, model, out_dir, args.bins, args.half_range)
        written.append(write_summary_histograms(errors, valid, model, out_dir / "summary_histograms.png",
                                                half_range=args.half_range))
    print(f"wrote {len(written)} PNG files to {out_dir}")
    return 0
