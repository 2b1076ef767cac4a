"""The two partial-body figures of docs/benchmarks.md (#18): a truncated and an occluded person.

* truncated: OpenCV's ``basketball2.png`` as it is (a man cut by the right and bottom border);
* occluded: ``messi5.jpg`` with a brown box (RGB 96, 72, 48) over its lower 38 %, a table hiding
  the legs.

Each photo goes through ``poselifter infer`` (the shipped models unless ``--lifter``; no
intrinsics: 60 degree field of view assumed); its 2D overlay and 3D view are put side by side at
400 px height and saved as a 256-colour PNG (the size rule for committed figures). Prints, per
figure, the people and their observed joints.

    python benchmarks/partial_body_figures.py [--samples DIR] [--out docs/figures] [--lifter FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from poselifter_core.cli import main as poselifter

SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
OCCLUDED_SHARE = 0.38  # of the image height, from the bottom
OCCLUDER_RGB = (96, 72, 48)
HEIGHT = 400


def occlude_lower_part(source: Path, target: Path, share: float = OCCLUDED_SHARE) -> Path:
    """``source`` with its lower ``share`` covered by a box of :data:`OCCLUDER_RGB`, saved as PNG."""
    image = np.array(Image.open(source).convert("RGB"))
    image[round(image.shape[0] * (1 - share)):] = OCCLUDER_RGB
    Image.fromarray(image).save(target)
    return target


def side_by_side(left: Path, right: Path, target: Path, height: int = HEIGHT) -> Path:
    """Two pictures scaled to ``height``, left to right, on white, as a 256-colour PNG."""
    panels = [Image.open(p).convert("RGB") for p in (left, right)]
    panels = [p.resize((round(p.width * height / p.height), height), Image.LANCZOS) for p in panels]
    canvas = Image.new("RGB", (sum(p.width for p in panels), height), "white")
    canvas.paste(panels[0], (0, 0))
    canvas.paste(panels[1], (panels[0].width, 0))
    canvas.quantize(256).save(target, optimize=True)
    return target


def figure(photo: Path, name: str, out: Path, work: Path, lifter: str | None) -> str:
    """Run ``poselifter infer`` on ``photo``, write ``out/partial_body_{name}.png``; a summary line."""
    run = work / name
    argv = ["infer", str(photo), "-o", str(run), "--no-progress"] + (["--lifter", lifter] if lifter else [])
    if poselifter(argv) != 0:
        raise RuntimeError(f"poselifter infer failed on {photo}")
    result = json.loads((run / "results.json").read_text(encoding="utf-8"))[photo.name]
    target = side_by_side(run / f"{photo.stem}_2d.png", run / f"{photo.stem}_3d.png", out / f"partial_body_{name}.png")
    people = ", ".join(f"#{i}: {sum(p['valid'])} of {len(p['valid'])} joints observed, root depth {p['root_m'][2]:.2f} m"
                       for i, p in enumerate(result["people"])) or "nobody lifted"
    return f"{target} ({target.stat().st_size / 1000:.0f} kB): {people}; skipped: {result['skipped'] or 'none'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=SAMPLES, help="OpenCV's sample data (opencv-doc)")
    parser.add_argument("--out", type=Path, default=Path("docs/figures"))
    parser.add_argument("--lifter", help="lifter file (default: the shipped model)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="partial-body-figures-") as tmp:
        work = Path(tmp)
        occluded = occlude_lower_part(args.samples / "messi5.jpg", work / "messi5_behind_table.png")
        print(figure(args.samples / "basketball2.png", "truncated", args.out, work, args.lifter))
        print(figure(occluded, "occluded", args.out, work, args.lifter))
    return 0


if __name__ == "__main__":
    sys.exit(main())
