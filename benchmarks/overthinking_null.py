"""Natural overthinking on null data: the old unequal median split beside the equal halves, 200 replicates.

Answers do not depend on length; lengths are small integers with heavy ties (the data of
tests/analysis/test_null_calibration.py). Prints the mean long − short incoherence ± its simulation standard error
for each split and metric; docs/analyses.md quotes the output.

    python benchmarks/overthinking_null.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "analysis"))

from test_null_calibration import _null_question_set, _old_median_split

import hotmess.analysis.overthinking as ot


def main(replicates: int = 200) -> None:
    warnings.simplefilter("ignore")
    equal = ot.split_at_median
    for name, split in (("below/at-or-above (old)", _old_median_split), ("equal halves", equal)):
        ot.split_at_median = split
        for metric in ("kl", "brier"):
            d = []
            for r in range(replicates):
                rng = np.random.default_rng(10_000 + r)
                res = ot.natural_overthinking(_null_question_set(rng), metric=metric, n_boot=0)
                d.append(float(res.set_index("half").loc["long − short", "incoherence"]))
            v = np.array(d)
            se = v.std(ddof=1) / np.sqrt(v.size)
            print(f"{name:26s} {metric:6s} long − short incoherence {v.mean():+.4f} ± {se:.4f}")
    ot.split_at_median = equal


if __name__ == "__main__":
    main()
