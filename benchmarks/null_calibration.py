"""Coverage of the analyses' 95% intervals on seeded null data, and the mean of each estimate (200 replicates).

The same simulations as tests/analysis/test_null_calibration.py (which asserts mean within 2 SE and coverage
≥ 90%); this prints the numbers that docs/analyses.md and the issue notes quote.

    python benchmarks/null_calibration.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "analysis"))

import test_null_calibration as cal


def _line(name: str, est: np.ndarray, low: np.ndarray, high: np.ndarray, truth: float) -> None:
    ok = np.isfinite(est)
    mean, se = est[ok].mean(), est[ok].std(ddof=1) / np.sqrt(ok.sum())
    cover = np.mean((low <= truth) & (truth <= high))
    print(f"{name:44s} truth {truth:+.1f}  mean {mean:+.4f} ± {se:.4f}  coverage {cover:6.1%}  (n = {ok.sum()})")


def main() -> None:
    for metric, t in cal.overthinking_replicates().items():
        for stat in ("incoherence", "variance", "accuracy"):
            _line(f"overthinking long − short {stat} ({metric})", *_cols(t, stat), 0.0)
    _line("length exponent α", *_cols(cal.length_replicates(), "alpha"), 0.0)
    _line("ensemble variance slope (Brier)", *_cols(cal.ensemble_replicates(), "variance_slope"), -1.0)
    sc = cal.scaling_replicates()
    for col in ("bias_exponent", "variance_exponent", "incoherence_slope"):
        _line(f"scaling {col}", *_cols(sc, col), 0.0)


def _cols(t, col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (t[col].to_numpy(float), t[f"{col}_low"].to_numpy(float), t[f"{col}_high"].to_numpy(float))


if __name__ == "__main__":
    main()
