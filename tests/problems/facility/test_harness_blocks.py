"""Deviation profiles built in blocks give exactly the one-block outputs, in the same layout."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.problems.facility import harness as fh
from amdlib.problems.facility.data import make_profiles
from amdlib.problems.facility.evaluation import payload_of, score_outputs


def _mech(peaks, weights, k):
    return np.sort(peaks, axis=1)[:, [1, peaks.shape[1] - 2]] + 0.01 * peaks[:, :1]  # manipulable on purpose


def _one(peaks, weights, k):
    return np.sort(peaks)[[1, peaks.shape[0] - 2]]


@pytest.mark.parametrize("per_profile", [False, True])
def test_blocks_reproduce_the_whole_batch(monkeypatch, per_profile):
    prof = make_profiles("uniform", 6, 37, 4, 0, "test")
    payload = payload_of(prof, np.ones(6), 2, per_profile)
    fn = _one if per_profile else _mech
    whole = fh.harness(fn, payload)
    monkeypatch.setattr(fh, "BLOCK_FLOATS", 6 * 4 * 6 * 5)  # 5 profiles per block: 8 blocks
    assert fh.block_size(6, 4) == 5
    parts = fh.harness(fn, payload)
    for key in ("loc", "loc_dev", "loc_single"):
        assert np.array_equal(parts[key], whole[key]), key
    a, b = score_outputs(parts, payload, 0.0), score_outputs(whole, payload, 0.0)
    assert a.metrics == b.metrics and (per_profile or a.metrics["max_regret"] > 0)
