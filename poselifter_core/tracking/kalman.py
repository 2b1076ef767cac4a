"""Independent constant-velocity Kalman filters over many scalar channels, vectorised.

Each channel has the state (value, velocity) and the white-noise-acceleration motion model
(acceleration std ``a``): over ``dt`` the covariance grows by ``a^2 [[dt^4/4, dt^3/2],
[dt^3/2, dt^2]]``. In steady state such a filter follows constant-velocity motion without lag;
its lag on accelerating motion and its smoothing are both set by ``measurement_std / a``.
A measurement whose innovation exceeds ``outlier_sigmas`` standard deviations is down-weighted
(its variance is inflated to put it on that bound: a Huber-type robust update), so one bad 2D
detection cannot throw the track.
"""
from __future__ import annotations

import math

import numpy as np

from .config import ChannelNoise


class ConstantVelocityKalman:
    """C independent 1D filters; covariance kept as its three distinct entries per channel.
    ``noises`` gives the (measurement std, acceleration std) of each channel: one
    :class:`~.config.ChannelNoise` per group, with the group sizes in ``sizes``."""

    def __init__(self, initial: np.ndarray, noises: list[ChannelNoise], sizes: list[int],
                 outlier_sigmas: float = 3.0, q_scale: float = 1.0) -> None:
        self.value = np.asarray(initial, dtype=np.float64).ravel().copy()
        if sum(sizes) != self.value.size or len(noises) != len(sizes):
            raise ValueError(f"{self.value.size} channels but groups of {sizes} with {len(noises)} noises")
        self.velocity = np.zeros_like(self.value)
        self.r = np.repeat([n.measurement_std ** 2 for n in noises], sizes)
        self.q = np.repeat([n.acceleration_std ** 2 for n in noises], sizes)
        # multiplies every channel's acceleration variance: PoseFilter's frame-rate scaling, where a
        # time T at the reference rate is T / sqrt(q_scale) here
        self.q_scale = q_scale
        # Start: position known to the measurement noise, velocity to what one (reference) second at
        # the acceleration std gives (a new track does not fly off on its first noisy steps).
        self.p00 = self.r.copy()
        self.p01 = np.zeros_like(self.value)
        self.p11 = self.q * math.sqrt(q_scale)
        self.outlier_sigmas = outlier_sigmas

    def predict(self, dt: float) -> None:
        if dt <= 0:
            return
        q, dt2 = self.q * self.q_scale, dt * dt
        self.value += self.velocity * dt
        self.p00 += 2 * dt * self.p01 + dt2 * self.p11 + q * (dt2 * dt2 / 4)
        self.p01 += dt * self.p11 + q * (dt2 * dt / 2)
        self.p11 += q * dt2

    def predicted(self, dt: float, channels: slice = slice(None)) -> np.ndarray:
        """The value of ``channels`` ``dt`` after the last step, without changing the state."""
        return self.value[channels] + self.velocity[channels] * max(dt, 0.0)

    def predicted_std(self, dt: float, channels: slice = slice(None)) -> np.ndarray:
        """Standard deviation of :meth:`predicted` (the filter's own uncertainty, no measurement noise)."""
        dt = max(dt, 0.0)
        variance = (self.p00[channels] + 2 * dt * self.p01[channels] + dt * dt * self.p11[channels]
                    + self.q_scale * self.q[channels] * dt ** 4 / 4)
        return np.sqrt(np.maximum(variance, 0.0))

    def update(self, measurement: np.ndarray, inflate: np.ndarray | float = 1.0) -> None:
        """Fuse one measurement per channel. ``inflate`` (scalar or per channel) multiplies the
        measurement variance: trust this measurement, or these channels, less."""
        innovation = np.asarray(measurement, dtype=np.float64).ravel() - self.value
        r = self.r * inflate
        s = self.p00 + r
        k2 = self.outlier_sigmas ** 2
        d2 = innovation * innovation / s
        over = d2 > k2
        if over.any():  # Mahalanobis distance capped at k: the variance that puts the innovation there
            s = np.where(over, d2 * s / k2, s)
        gain0, gain1 = self.p00 / s, self.p01 / s
        self.value += gain0 * innovation
        self.velocity += gain1 * innovation
        self.p11 -= gain1 * self.p01
        self.p01 *= 1.0 - gain0
        self.p00 *= 1.0 - gain0
