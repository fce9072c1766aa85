import math
import statistics

import opendp.prelude as dp
import pytest

from services.statistics.mechanisms import epsilon_at, noise_calibrate


def test_the_calibrated_scale_costs_no_more_than_the_rho_asked_by_opendps_own_map():
    noise = noise_calibrate(sensitivity=3 * math.sqrt(12), rho=0.1)

    space = dp.vector_domain(dp.atom_domain(T=dp.i64)), dp.l2_distance(T=float)
    measurement = space >> dp.m.then_gaussian(scale=noise.scale)
    assert measurement.map(noise.sensitivity) <= 0.1
    assert noise.scale == pytest.approx(3 * math.sqrt(12) / math.sqrt(0.2))


def test_noise_is_whole_numbers_added_to_whole_numbers():
    noisy = noise_calibrate(sensitivity=1, rho=0.5).add([10, 20, 30])

    assert all(isinstance(value, int) for value in noisy)


def test_the_empirical_variance_of_the_noise_matches_the_mechanisms():
    noise = noise_calibrate(sensitivity=1, rho=0.02)  # scale 5
    samples = noise.add([1000] * 40_000)
    deviations = [value - 1000 for value in samples]

    # The sample variance of n draws has standard error about variance * sqrt(2 / n): 0.7 % here.
    assert statistics.fmean(deviations) == pytest.approx(0, abs=4 * noise.scale / math.sqrt(len(samples)))
    assert statistics.variance(deviations) == pytest.approx(noise.variance, rel=4 * math.sqrt(2 / len(samples)))


def test_the_epsilon_stated_for_a_rho_is_within_the_textbook_conversion():
    for rho in (0.01, 0.1, 0.5, 2.0):
        textbook = rho + 2 * math.sqrt(rho * math.log(1e9))  # Bun and Steinke 2016, Prop. 1.3

        assert 0 < epsilon_at(rho) <= textbook


def test_no_privacy_loss_is_no_epsilon():
    assert epsilon_at(0) == 0.0
