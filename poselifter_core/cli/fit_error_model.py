"""``poselifter fit-error-model``: fit the 2D error model (eq. 9) to a detector's errors."""
from __future__ import annotations

import argparse
import logging
import time

from ..noise.default_model import build_default_model
from ..noise.em import fit_error_model
from ..noise.error_model import DEFAULT_WINDOW, ErrorModel
from ..noise.errors import errors_from_files
from ..skeleton import SKELETONS, get_skeleton

log = logging.getLogger(__name__)

DESCRIPTION = """\
Fit PoseLifter's 2D error model (paper section 4.2, eq. 9) to the errors of your 2D pose
estimator: per joint, a Gaussian for inliers mixed with a uniform density over a square window
for outliers, fitted by EM, plus the single-Gaussian baseline. Run your estimator on held-out
labelled images (images it was not trained on), save its detections (--pred) and the labels
(--gt) for the same frames, and fit. Errors are divided by the person's 2D scale sigma (eq. 4,
computed on the ground truth), so the model does not depend on image resolution or person size.

File formats (.npz or .json), the same N frames in the same order in both files:
  npz : key keypoints_2d (N, J, 2) in pixels; optional skeleton (string), visibility (N, J).
        A plain PoseSet npz works as --gt.
  json: [[[x, y], ...], ...] or {"keypoints_2d": [...], "skeleton": "h36m17", "visibility": [...]}
Missing detections may be NaN (npz) or null (JSON); they and invisible joints are left out.

The model file (YAML, or JSON if -o ends in .json) holds per joint the mixture mean, std and
gamma, the single-Gaussian mean and std, the NLL of both fits and the sample count. Use it with
'poselifter train --input-noise mixture --error-model FILE' and view it with
'poselifter plot-error-model'."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit-error-model", help="fit the 2D detection error model (eq. 9) to detections and ground truth",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pred", metavar="FILE", help="2D detections, .npz or .json")
    parser.add_argument("--gt", metavar="FILE", help="2D ground truth for the same frames")
    parser.add_argument("--assumed-default", action="store_true",
                        help="fit nothing: write the shipped default model, assembled from published numbers "
                             "and stated assumptions (docs/error_model.md); --pred/--gt are not used")
    parser.add_argument("--visibility", metavar="FILE",
                        help="(N, J) mask, nonzero = use the joint (.npz key 'visibility' or .json); default: "
                             "the detections file's 'visibility' if present, else all detected joints")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="model file to write (.yaml/.json)")
    parser.add_argument("--skeleton", choices=sorted(SKELETONS),
                        help="joint layout of the files (default: named in the files, else h36m17)")
    parser.add_argument("--window", type=float, default=DEFAULT_WINDOW, metavar="W",
                        help="half-width of the outlier square in units of sigma (default %(default)s: the "
                             "paper's +-50 px in 256 px person crops)")
    parser.add_argument("--tol", type=float, default=1e-7,
                        help="stop a joint's EM when its mean NLL per sample improves by less (default %(default)s)")
    parser.add_argument("--max-iter", type=int, default=500, help="EM iteration cap (default %(default)s)")
    parser.add_argument("--min-samples", type=int, default=50,
                        help="joints with fewer valid errors get a single Gaussian, gamma = 1 (default %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.assumed_default:
        build_default_model().save(args.output)
        print(f"wrote {args.output}")
        return 0
    if not (args.pred and args.gt):
        raise SystemExit("fit-error-model: --pred and --gt are required (or --assumed-default)")
    errors, valid, skeleton = errors_from_files(args.pred, args.gt, args.visibility, args.skeleton)
    log.info("fitting %d frames x %d joints (%d valid errors)", errors.shape[0], errors.shape[1], int(valid.sum()))
    start = time.perf_counter()
    model = fit_error_model(errors, skeleton.name, valid, window=args.window, tol=args.tol,
                            max_iter=args.max_iter, min_samples=args.min_samples)
    log.info("fitted in %.2f s", time.perf_counter() - start)
    model.notes = f"Fitted to {args.pred} (detections) and {args.gt} (ground truth)."
    model.save(args.output)
    print(summary(model))
    print(f"wrote {args.output}")
    return 0


def summary(model: ErrorModel) -> str:
    """A per-joint table of the fit, for the terminal."""
    names = get_skeleton(model.skeleton).joint_names
    lines = [f"{'joint':<15} {'n':>8} {'gamma':>6} {'std x':>7} {'std y':>7} {'1G std x':>8} {'1G std y':>8} "
             f"{'NLL mix':>8} {'NLL 1G':>8}  fit"]
    for j, name in enumerate(names):
        lines.append(
            f"{name:<15} {model.num_samples[j]:>8d} {model.gamma[j]:>6.3f} {model.std[j, 0]:>7.4f} "
            f"{model.std[j, 1]:>7.4f} {model.gaussian_std[j, 0]:>8.4f} {model.gaussian_std[j, 1]:>8.4f} "
            f"{model.nll_mixture[j]:>8.3f} {model.nll_gaussian[j]:>8.3f}  {model.fit[j]}"
        )
    lines.append(f"units: {model.units} (errors / sigma of eq. 4); window half-width {model.window}")
    return "\n".join(lines)
