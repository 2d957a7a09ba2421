"""Shapes of generated OKR data, shared by the seed_bench and seed_many commands."""

from __future__ import annotations

import random

from okrs import scoring


class Trajectory:
    """Values of one KR over the window (t in [0, 1]): a noisy path to a random end."""

    def __init__(self, rng: random.Random, kind: str, definition: tuple):
        start, target, low, high = definition
        self.rng, self.kind = rng, kind
        if kind in (scoring.INCREASE, scoring.DECREASE):
            self.base, self.span, self.end = start, target - start, rng.uniform(-0.1, 1.15)
        elif kind in (scoring.STAY_ABOVE, scoring.STAY_BELOW):
            self.base, self.span = target, start - target
        elif kind == scoring.STAY_BETWEEN:
            self.base, self.span = (low + high) / 2, high - low
        else:  # milestone: reached at some point of the window, or not
            self.reached_at = rng.uniform(0.3, 1.0) if rng.random() < 0.4 else 2.0

    def value(self, t: float) -> float:
        rng, kind = self.rng, self.kind
        if kind in (scoring.INCREASE, scoring.DECREASE):
            return round(self.base + self.span * (self.end * t + rng.gauss(0, 0.05)), 2)
        if kind in (scoring.STAY_ABOVE, scoring.STAY_BELOW):
            return round(self.base + self.span * rng.uniform(-0.4, 1.6), 2)
        if kind == scoring.STAY_BETWEEN:
            return round(self.base + self.span * rng.gauss(0, 0.6), 2)
        return 1.0 if t >= self.reached_at else 0.0


def confidence(rng: random.Random) -> int:
    return min(10, max(0, round(rng.gauss(7, 2))))
