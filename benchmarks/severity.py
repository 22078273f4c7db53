"""What severity 1 costs a well-trained frozen model, per stream family and kind of drift.

Runs the real pipeline, then reads the finished run directories (it re-runs nothing itself)::

    python -m harness.run -m stream=teacher,gaussian_classes drift.kind=covariate,concept,label,novel \
        strategy=[frozen] quiet=true hydra.sweep.dir=results/severity/synthetic
    python benchmarks/severity.py results/severity/synthetic [more sweep dirs...]

Prints one row per run: accuracy before the onset and after the drift (for ``novel``, after the
drift on the novel inputs only), the drop in points, and ECE and NLL before and after.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from harness.scores import metrics


def row(run_dir: Path) -> dict:
    stream = json.loads((run_dir / "stream.json").read_text())
    schedule = stream["schedule"]
    predictions = pd.read_parquet(run_dir / "predictions.parquet")
    frozen = predictions[predictions["strategy"] == "frozen"]
    proba = frozen.filter(regex=r"^p_\d+$").to_numpy()
    y = frozen["y_true"].to_numpy()
    pre = (frozen["phase"] == "pre").to_numpy()
    post = (frozen["phase"] == "post").to_numpy()
    after = post & frozen["novel"].to_numpy() if schedule["kind"] == "novel" else post

    def scores(mask):
        return (metrics.accuracy_score(y[mask], proba[mask]), metrics.ece_error(y[mask], proba[mask]),
                metrics.nll_loss(y[mask], proba[mask]))  # fmt: skip

    (acc_pre, ece_pre, nll_pre), (acc_post, ece_post, nll_post) = scores(pre), scores(after)
    return {
        "stream": stream["family"], "kind": schedule["kind"], "pattern": schedule["pattern"],
        "severity": schedule["severity"], "n_after": int(after.sum()),
        "acc_pre": acc_pre, "acc_after": acc_post, "drop_points": 100 * (acc_pre - acc_post),
        "ece_pre": ece_pre, "ece_after": ece_post, "nll_pre": nll_pre, "nll_after": nll_post,
    }  # fmt: skip


def main(sweeps: list[str]) -> pd.DataFrame:
    runs = sorted(p.parent for sweep in sweeps for p in Path(sweep).rglob("result.json"))
    table = pd.DataFrame([row(run) for run in runs]).sort_values(["stream", "kind"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
