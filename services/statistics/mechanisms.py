"""The discrete Gaussian mechanism under zero-concentrated DP, from OpenDP, and what its parameters mean.

Counts and totals are integers (totals in fen), so noise is drawn from the
discrete Gaussian (Canonne, Kamath, Steinke 2020), which OpenDP samples
exactly: no floating-point noise whose low bits could leak the true value.
A release of a vector whose L2 sensitivity is D with scale sigma satisfies
rho-zCDP with rho = D^2 / (2 sigma^2); OpenDP's privacy map is the judge.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

import opendp.prelude as dp

dp.enable_features("contrib")

MECHANISM = "discrete_gaussian"
MEASURE = "zCDP"
# The delta at which the page states the equivalent (epsilon, delta)-DP guarantee.
DELTA = 1e-9


@dataclass(frozen=True)
class Noise:
    """A discrete Gaussian calibrated to a sensitivity and a share of the budget."""

    sensitivity: float
    rho: float
    scale: float

    def add(self, values: list[int]) -> list[int]:
        """Return VALUES with independent discrete Gaussian noise of this scale added to each."""
        if not values:
            return []
        return list(_measurement(self.scale)(list(values)))

    @property
    def variance(self) -> float:
        """Return the noise variance, which for the discrete Gaussian is just under scale squared."""
        return self.scale**2


def _measurement(scale: float):
    space = dp.vector_domain(dp.atom_domain(T=dp.i64)), dp.l2_distance(T=float)
    return space >> dp.m.then_gaussian(scale=scale)


def noise_calibrate(*, sensitivity: float, rho: Decimal | float) -> Noise:
    """Return the smallest-scale discrete Gaussian whose release of a SENSITIVITY-bounded vector costs at most RHO."""
    rho = float(rho)
    if sensitivity <= 0 or rho <= 0:
        raise ValueError("sensitivity and rho must be positive")
    scale = sensitivity / math.sqrt(2 * rho)
    # OpenDP rounds its privacy map outwards; widen the scale until the map agrees.
    while _measurement(scale).map(float(sensitivity)) > rho:
        scale = math.nextafter(scale, math.inf) * (1 + 1e-12)
    return Noise(sensitivity=float(sensitivity), rho=rho, scale=scale)


def epsilon_at(rho: Decimal | float, *, delta: float = DELTA) -> float:
    """Return the epsilon of the (epsilon, DELTA)-DP guarantee RHO-zCDP implies (OpenDP's conversion)."""
    rho = float(rho)
    if rho <= 0:
        return 0.0
    # Any measurement of sensitivity 1 costing exactly RHO carries RHO's privacy curve.
    space = dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float)
    scale = 1 / math.sqrt(2 * rho)
    approximate = dp.c.make_zCDP_to_approxDP(space >> dp.m.then_gaussian(scale=scale))
    return approximate.map(1.0).epsilon(delta)
