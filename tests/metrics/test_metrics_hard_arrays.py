"""Extracted answers are decomposed from option counts, never from a ``(Q, S, C)`` array of one-hot vectors.

``SampleArrays.from_answers`` keeps answers only; :func:`hotmess.metrics.decompose` then goes through
:class:`hotmess.metrics.stats.ChoiceStats`. These tests hold that path equal to the dense one (the same answers
given as one-hot probability vectors) and check that the dense array is never built.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from hotmess.metrics import METRICS, SampleArrays, decompose, one_hot, summarize

PROPS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def answer_sets(draw):
    """(answers (Q, S) with −1 invalid, targets, n_options (Q,), mask (Q, S)) with ragged counts."""
    Q = draw(st.integers(1, 5))
    S = draw(st.integers(2, 8))
    C = draw(st.integers(2, 5))
    k = draw(hnp.arrays(np.int64, Q, elements=st.integers(2, C)))
    raw = draw(hnp.arrays(np.int64, (Q, S), elements=st.integers(-1, C - 1)))
    answers = np.where(raw < k[:, None], raw, -1)
    targets = np.array([draw(st.integers(0, int(kq) - 1)) for kq in k], dtype=np.int64)
    n = draw(hnp.arrays(np.int64, Q, elements=st.integers(2, S)))
    mask = np.arange(S)[None, :] < n[:, None]
    return answers, targets, k, mask, C


def dense(answers, targets, k, mask, C) -> SampleArrays:
    """The same samples as probability vectors: the path that builds (Q, S, C)."""
    valid = (answers >= 0) & mask
    return SampleArrays.from_probs(
        one_hot(np.where(mask, answers, -1), C, n_options=k), targets, n_options=k, mask=mask, valid=valid
    )


@PROPS
@given(answer_sets(), st.sampled_from(METRICS), st.sampled_from(["plugin", "corrected"]), st.sampled_from([1e-6, 0.1]))
def test_counts_path_equals_dense_path(sample, metric, estimator, delta) -> None:
    answers, targets, k, mask, C = sample
    if estimator == "corrected" and metric not in ("kl", "brier"):
        estimator = "plugin"
    hard = SampleArrays.from_answers(answers, targets, n_classes=C, n_options=k, mask=mask)
    soft = dense(answers, targets, k, mask, C)
    assert hard.hard and not soft.hard
    a = decompose(hard, metric, delta=delta, estimator=estimator)
    b = decompose(soft, metric, delta=delta, estimator=estimator)
    for name in ("bias", "variance", "error"):
        assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-12, err_msg=f"{metric} {name}")
    assert_allclose(hard.expected_accuracy(), soft.expected_accuracy(), rtol=0, atol=1e-15)
    assert_allclose(hard.probs[mask], soft.probs[mask], rtol=0, atol=0)  # built on request, as stated
    assert not hard.soft.any()


def test_summarize_never_builds_the_dense_array() -> None:
    rng = np.random.default_rng(0)
    answers = rng.integers(-1, 4, size=(50, 30))
    arrays = SampleArrays.from_answers(answers, rng.integers(0, 4, 50), n_classes=4)
    for metric in METRICS:
        summarize(arrays, metric, n_boot=20, rng=0)
    assert "probs" not in vars(arrays)  # the cached property was never evaluated
    assert arrays.probs.shape == (50, 30, 4)  # but it is there when asked for


def test_from_answers_still_refuses_an_answer_beyond_the_options() -> None:
    with pytest.raises(ValueError, match="n_options"):
        SampleArrays.from_answers([[0, 2]], [0], n_classes=3, n_options=2)
