# Config validation and grid expansion: the only place that turns a preset into jobs.
import json
import os
import sys

from snakemake.utils import min_version, validate

from benchmark import config as presets
from benchmark import paths
from benchmark.datasets import CARD, FIELDS

min_version("9.0")

# A bad preset stops here, before any job, with one line naming the key and what is allowed.
try:
    presets.validate(config)
except presets.BenchmarkError as error:
    sys.exit(f"error: {error}")
validate(config, "../schemas/config.schema.yaml")  # also fills the schema's defaults

envvars:
    "PATH",


# Jobs run `python -m benchmark ...`: without --use-conda, the Python that runs Snakemake.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
GRID = presets.grid(config)
RUN = paths.RUN


wildcard_constraints:
    suite="atari|mujoco",
    seed=r"\d+",
    env=r"[a-z0-9]+",
    dataset=r"[A-Za-z0-9_.\-]+",
    algorithm=r"[A-Za-z0-9_\-]+",


def run_key(wildcards):
    return presets.RunKey(
        wildcards.suite, wildcards.env, wildcards.dataset, wildcards.algorithm, int(wildcards.seed)
    )


def run_spec_json(wildcards):
    return json.dumps(presets.run_spec(config, run_key(wildcards)), separators=(",", ":"))


def dataset_spec_json(wildcards):
    spec = presets.dataset_spec(config, wildcards.suite, wildcards.env, wildcards.dataset)
    return json.dumps(spec, separators=(",", ":"))


def all_runs(pattern):
    """`pattern` (with the run wildcards) for every run of the grid."""
    return [pattern.format(**vars(key)) for key in GRID]
