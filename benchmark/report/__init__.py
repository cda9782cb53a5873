"""The reporting wing: every table and figure from results/ alone (`python -m benchmark report`).

- `stage`: the report stage (reads results/, writes results/tables/ and results/figures/);
- `statistics`: rliable's estimates and their intervals, the metrics and their titles;
- `tables`: each table as CSV, Markdown and LaTeX;
- `figures`: each figure as PNG and PDF, one colour per algorithm;
- `ladder`: the sanity ladder's checks;
- `published`: published numbers beside ours (the numbers themselves: benchmark/data/);
- `reproduction`: the verdict on two measurements (consistent, different, inconclusive);
- `compare`: `python -m benchmark compare`, two results folders or one against the published numbers.

The method under study is the preset's `report.focus` (default `more3s`): its probability of
improvement over each baseline, its colour family; it and its ablations (`<focus>-<variant>`)
are the only algorithms that are not baselines. Nothing here knows any algorithm otherwise,
except the sanity ladder's BC and DT checks and the baselines' fixed colours.
"""

from benchmark.report.stage import report

__all__ = ["report"]
