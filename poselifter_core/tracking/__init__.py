"""People over time: persistent track ids and causal temporal filtering of the lifted poses.

:class:`Tracker` (one per stream) is what ``infer`` on a video, ``bag`` and the node run after
the cascade; its settings are :class:`TrackingConfig` (``config/tracking.yaml``).
"""
from .config import ChannelNoise, FilterConfig, TrackerConfig, TrackingConfig
from .tracker import COASTING, NEW, TRACKED, Tracker

__all__ = ["COASTING", "NEW", "TRACKED", "ChannelNoise", "FilterConfig", "TrackerConfig", "TrackingConfig", "Tracker"]
