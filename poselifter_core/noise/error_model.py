"""The per-joint 2D error model of PoseLifter (paper eq. 9) and its YAML/JSON file.

For joint j the error e = detected - ground truth, divided by the person's 2D scale sigma of
eq. 4 (computed on the ground-truth 2D pose), has the density

    p(e) = gamma_j N(e; mu_j, diag(s_j^2)) + (1 - gamma_j) / V,   V = (2 W)^2,

a Gaussian for inliers (good, jitter) plus a uniform density over the square [-W, W]^2 for
outliers (inversion, swap, miss). The unit "person_scale" makes the model independent of image
resolution and of the person's size in the image: multiply by a pose's sigma to get pixels.

The file also stores the single-Gaussian baseline (the maximum-likelihood Gaussian of the same
errors) so that training can use either, and the mean negative log-likelihood per sample
(eq. 10 divided by the sample count, errors in person_scale units) of both fits.

Window: the paper uses +-50 px in its 256 x 256 person crops. With a crop side of
``CROP_MARGIN`` times the extent of the 2D joints (head top to ankles) and sigma =
``SIGMA_PER_EXTENT`` times that extent (the median over the shipped CMU mocap clips seen from
seven azimuths; 5-95 % range 0.286-0.342), one sigma is 256 / 1.25 * 0.305 = 62.5 crop pixels and
the window half-width is 50 / 62.5 = 0.80 sigma (:data:`DEFAULT_WINDOW`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..skeleton import get_skeleton

FORMAT = "poselifter-error-model/1"
UNITS = "person_scale"

PAPER_WINDOW_PX = 50.0
PAPER_CROP_PX = 256.0
CROP_MARGIN = 1.25
SIGMA_PER_EXTENT = 0.305
#: Half-width of the outlier window in person_scale units (see the module docstring).
DEFAULT_WINDOW = round(PAPER_WINDOW_PX / (PAPER_CROP_PX / CROP_MARGIN * SIGMA_PER_EXTENT), 2)

#: How a joint's parameters were obtained.
FIT_KINDS = ("em", "gaussian-fallback", "assumed")

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "assets" / "error_model_default.yaml"

_HEADER = """\
# PoseLifter 2D keypoint error model (paper eq. 9), one entry per joint.
# error = (detected 2D joint - ground-truth 2D joint) / sigma, sigma = the person's 2D scale
# (eq. 4: RMS distance of the ground-truth joints to their mean, pixels); units: person_scale.
# p(e) = gamma * N(e; mixture.mean, diag(mixture.std^2)) + (1 - gamma) / (2 * window_half_width)^2
# (outliers: uniform over the square [-window_half_width, window_half_width]^2).
# gaussian: the single-Gaussian fit of the same errors (the baseline).
# nll: mean negative log-likelihood per sample (eq. 10 / number of samples), person_scale units.
"""


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (the notes) as readable ``|`` blocks."""


_Dumper.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)
)


def _sig(value: float) -> float:
    """Six significant digits: readable files, far below any meaningful difference."""
    return float(f"{float(value):.6g}")


@dataclass
class ErrorModel:
    """Per-joint mixture parameters, the single-Gaussian baseline and fit diagnostics.

    Arrays: ``mean``, ``std``, ``gaussian_mean``, ``gaussian_std`` are (J, 2) (x, y), ``gamma``
    is (J,). ``nll_*``, ``num_samples`` and ``fit`` are per joint and ``None`` for a model not
    fitted to data (the shipped default).
    """

    skeleton: str
    mean: np.ndarray
    std: np.ndarray
    gamma: np.ndarray
    window: float
    gaussian_mean: np.ndarray
    gaussian_std: np.ndarray
    nll_mixture: np.ndarray | None = None
    nll_gaussian: np.ndarray | None = None
    num_samples: np.ndarray | None = None
    fit: tuple[str, ...] | None = None
    units: str = UNITS
    notes: str = ""

    def __post_init__(self) -> None:
        num_joints = get_skeleton(self.skeleton).num_joints
        for name in ("mean", "std", "gaussian_mean", "gaussian_std"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape != (num_joints, 2):
                raise ValueError(f"error model {name}: expected shape ({num_joints}, 2) for {self.skeleton}, "
                                 f"got {value.shape}")
            setattr(self, name, value)
        self.gamma = np.asarray(self.gamma, dtype=np.float64)
        if self.gamma.shape != (num_joints,):
            raise ValueError(f"error model gamma: expected shape ({num_joints},), got {self.gamma.shape}")
        for name in ("nll_mixture", "nll_gaussian", "num_samples"):
            value = getattr(self, name)
            if value is not None:
                value = np.asarray(value, dtype=np.int64 if name == "num_samples" else np.float64)
                if value.shape != (num_joints,):
                    raise ValueError(f"error model {name}: expected shape ({num_joints},), got {value.shape}")
                setattr(self, name, value)
        if self.fit is not None:
            self.fit = tuple(self.fit)
            unknown = set(self.fit) - set(FIT_KINDS)
            if len(self.fit) != num_joints or unknown:
                raise ValueError(f"error model fit: expected {num_joints} entries from {FIT_KINDS}, got {self.fit}")
        values = [self.mean, self.std, self.gamma, self.gaussian_mean, self.gaussian_std]
        if not all(np.isfinite(v).all() for v in values):
            raise ValueError("error model parameters must be finite")
        if (self.std <= 0).any() or (self.gaussian_std <= 0).any():
            raise ValueError("error model standard deviations must be positive")
        if ((self.gamma < 0) | (self.gamma > 1)).any():
            raise ValueError(f"error model gamma must lie in [0, 1], got {self.gamma.tolist()}")
        if not (np.isfinite(self.window) and self.window > 0):
            raise ValueError(f"error model window half-width must be positive, got {self.window}")
        self.window = float(self.window)
        if self.units != UNITS:
            raise ValueError(f"error model units {self.units!r} are not supported; only {UNITS!r}")

    @property
    def num_joints(self) -> int:
        return len(self.gamma)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested structure of the file format (rounded to six significant digits)."""
        names = get_skeleton(self.skeleton).joint_names
        joints = []
        for j, name in enumerate(names):
            entry: dict[str, Any] = {
                "name": name,
                "mixture": {
                    "mean": [_sig(v) for v in self.mean[j]],
                    "std": [_sig(v) for v in self.std[j]],
                    "gamma": _sig(self.gamma[j]),
                },
                "gaussian": {
                    "mean": [_sig(v) for v in self.gaussian_mean[j]],
                    "std": [_sig(v) for v in self.gaussian_std[j]],
                },
            }
            if self.nll_mixture is not None or self.nll_gaussian is not None:
                entry["nll"] = {
                    "mixture": None if self.nll_mixture is None else _sig(self.nll_mixture[j]),
                    "gaussian": None if self.nll_gaussian is None else _sig(self.nll_gaussian[j]),
                }
            if self.num_samples is not None:
                entry["num_samples"] = int(self.num_samples[j])
            if self.fit is not None:
                entry["fit"] = self.fit[j]
            joints.append(entry)
        values: dict[str, Any] = {
            "format": FORMAT,
            "skeleton": self.skeleton,
            "units": self.units,
            "window_half_width": _sig(self.window),
        }
        if self.notes:
            values["notes"] = self.notes
        if self.num_samples is not None and self.nll_mixture is not None and self.nll_gaussian is not None:
            weights = self.num_samples / max(int(self.num_samples.sum()), 1)
            values["total"] = {
                "num_samples": int(self.num_samples.sum()),
                "nll_mixture": _sig((weights * self.nll_mixture).sum()),
                "nll_gaussian": _sig((weights * self.nll_gaussian).sum()),
            }
        values["joints"] = joints
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "error model") -> "ErrorModel":
        if not isinstance(values, dict) or values.get("format") != FORMAT:
            raise ValueError(f"{where}: not a PoseLifter error model (expected format: {FORMAT})")
        try:
            skeleton = get_skeleton(values["skeleton"])
            joints = values["joints"]
            names = tuple(j["name"] for j in joints)
            if names != skeleton.joint_names:
                raise ValueError(f"{where}: joints {names} do not match skeleton {skeleton.name} "
                                 f"{skeleton.joint_names}")

            def column(path: tuple[str, ...], optional: bool = False) -> list | None:
                out = []
                for joint in joints:
                    node = joint
                    for key in path:
                        node = node.get(key) if isinstance(node, dict) else None
                    if node is None:
                        if optional:
                            return None
                        raise ValueError(f"{where}: joint {joint['name']!r} has no {'.'.join(path)}")
                    out.append(node)
                return out

            return cls(
                skeleton=skeleton.name,
                mean=np.array(column(("mixture", "mean")), dtype=np.float64),
                std=np.array(column(("mixture", "std")), dtype=np.float64),
                gamma=np.array(column(("mixture", "gamma")), dtype=np.float64),
                window=float(values["window_half_width"]),
                gaussian_mean=np.array(column(("gaussian", "mean")), dtype=np.float64),
                gaussian_std=np.array(column(("gaussian", "std")), dtype=np.float64),
                nll_mixture=column(("nll", "mixture"), optional=True),
                nll_gaussian=column(("nll", "gaussian"), optional=True),
                num_samples=column(("num_samples",), optional=True),
                fit=column(("fit",), optional=True),
                units=values.get("units", UNITS),
                notes=values.get("notes", ""),
            )
        except KeyError as error:
            raise ValueError(f"{where}: missing field {error}") from None

    def save(self, path: str | Path) -> None:
        """Write YAML (with the explanatory header) or, for a ``.json`` path, JSON."""
        path = Path(path)
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
            return
        body = yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=100)
        path.write_text(_HEADER + body, encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "ErrorModel":
        """Read a model file written by :meth:`save` (YAML or JSON)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no error model file at {path}")
        with path.open(encoding="utf-8") as stream:
            try:
                values = yaml.safe_load(stream)
            except yaml.YAMLError as error:
                raise ValueError(f"{path}: not valid YAML/JSON: {error}") from None
        return cls.from_dict(values, where=str(path))


def default_error_model() -> ErrorModel:
    """The model shipped with the package (not fitted to data; see its ``notes``)."""
    return ErrorModel.load(DEFAULT_MODEL_PATH)
