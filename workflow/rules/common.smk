# Config validation and grid expansion: the only place that turns a preset into jobs.
import dataclasses
import functools
import json
import os
import sys

from snakemake.utils import min_version

from benchmark import config as presets
from benchmark import paths
from benchmark import plan as capacity
from benchmark.datasets import FIELDS
from benchmark.specs import RunKey

min_version("9.0")

# The preset was checked, given the schema's defaults and typed (PRESET) by the Snakefile, before
# its workdir (benchmark.config.check_workflow_config).

envvars:
    "PATH",


# Jobs run `python -m benchmark ...`: without --use-conda, the Python that runs Snakemake.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
GRID = presets.grid(PRESET)
RUN = paths.RUN


wildcard_constraints:
    suite="atari|mujoco",
    seed=r"\d+",
    env=r"[a-z0-9]+",
    dataset=r"[A-Za-z0-9_.\-]+",
    algorithm=r"[A-Za-z0-9_\-]+",


def run_key(wildcards):
    return RunKey(
        wildcards.suite, wildcards.env, wildcards.dataset, wildcards.algorithm, int(wildcards.seed)
    )


def run_spec_json(wildcards):
    return json.dumps(presets.run_spec(PRESET, run_key(wildcards)).to_dict(), separators=(",", ":"))


def dataset_spec_json(wildcards):
    spec = presets.dataset_spec(PRESET, wildcards.suite, wildcards.env, wildcards.dataset)
    return json.dumps(dataclasses.asdict(spec), separators=(",", ":"))


def behaviour_spec_json(wildcards):
    spec = presets.behaviour_spec(PRESET, wildcards.suite, wildcards.env, wildcards.behaviour)
    return json.dumps(dataclasses.asdict(spec), separators=(",", ":"))


def gpu_resources() -> dict[str, int]:
    """Resources of a job that runs a network (`resources: ..., **gpu_resources()`): `gpu=N` when the
    preset asks for GPUs. The SLURM executor requests them (--gpus=N) and SLURM picks the device
    (CUDA_VISIBLE_DEVICES, read by benchmark.device); locally `--resources gpu=K` caps such jobs."""
    gpus = PRESET.gpus_per_job
    return {"gpu": gpus} if gpus else {}


def all_runs(pattern):
    """`pattern` (with the run wildcards) for every run of the grid."""
    return [pattern.format(**vars(key)) for key in GRID]


# MORE-3S's frozen-encoder caches, by folder (runs that encode alike share one).
FEATURES = presets.features_grid(PRESET)


def features_inputs(wildcards):
    """The features folder's manifest a run waits for ([] for algorithms without a cached encoder)."""
    spec = presets.features_spec(PRESET, run_key(wildcards))
    return [str(spec.folder / paths.MANIFEST)] if spec else []


def heldout_inputs(wildcards):
    """The held-out dataset's card a run's diagnosis reads ([] where there is none: imported data),
    and its features cache where the run reads one."""
    spec = presets.dataset_spec(PRESET, wildcards.suite, wildcards.env, wildcards.dataset)
    held_out = presets.heldout_spec(spec)
    features = presets.heldout_features_spec(PRESET, run_key(wildcards))
    inputs = [str(held_out.folder / paths.DATASET_CARD)] if held_out else []
    return inputs + ([str(features.folder / paths.MANIFEST)] if features else [])


# The frames stores that live features (MuJoCo, `features: live`) and pixel baselines read, by folder.
FRAMES = presets.frames_grid(PRESET)


def run_frames_inputs(wildcards):
    """The frames card a run that reads rendered frames itself waits for (bc-pixels; [] for the others)."""
    spec = presets.frames_spec(PRESET, run_key(wildcards))
    return [str(spec.folder / paths.FRAMES_CARD)] if spec else []


def frames_inputs(wildcards):
    """The frames store's manifest a live features folder waits for ([] for caches, Atari and text-only)."""
    folder = paths.features_dir(wildcards.suite, wildcards.env, wildcards.dataset, wildcards.features)
    frames = FEATURES[str(folder)].frames
    return [str(frames.folder / paths.MANIFEST)] if frames else []


def frames_spec_json(wildcards):
    folder = paths.frames_dir(wildcards.suite, wildcards.env, wildcards.dataset, wildcards.frames)
    return json.dumps(dataclasses.asdict(FRAMES[str(folder)]), separators=(",", ":"))


def features_spec_json(wildcards):
    folder = paths.features_dir(wildcards.suite, wildcards.env, wildcards.dataset, wildcards.features)
    return json.dumps(dataclasses.asdict(FEATURES[str(folder)]), separators=(",", ":"))


def report_settings(wildcards):
    """The preset's report block for `python -m benchmark report`, as the preset (with the schema's
    defaults) has it."""
    return json.dumps(config["report"], separators=(",", ":"))


def report_outputs():
    """Every table (CSV, Markdown, LaTeX) and figure (PNG, PDF). The CSVs and PNGs go into the HTML
    report (`snakemake --report`), each with its caption, workflow/report/<tables|figures>/<name>.rst."""
    categories = {"csv": "Tables", "png": "Figures"}
    outputs = []
    for path in paths.report_outputs():
        category = categories.get(path.suffix[1:])
        if category and path.stem == "provenance":
            category = "Provenance"
        caption = f"../report/{path.parent.name}/{path.stem}.rst"
        outputs.append(report(str(path), caption=caption, category=category) if category else str(path))
    return outputs


@functools.cache
def capacity_plan():
    """The preset's capacity plan (benchmark.plan), made once, when the first job asks for it."""
    return capacity.make(PRESET)


def _job_name(stage, wildcards):
    """A job's name in the plan, from its rule's wildcards."""
    if stage == "dataset":
        return f"{wildcards.suite}/{wildcards.env}/{wildcards.dataset}"
    if stage == "features":
        return str(paths.features_dir(wildcards.suite, wildcards.env, wildcards.dataset, wildcards.features))
    if stage == "frames":
        return str(paths.frames_dir(wildcards.suite, wildcards.env, wildcards.dataset, wildcards.frames))
    return RUN.format(**wildcards)


def planned(stage, resource):
    """A rule's `mem_mb` or `runtime` (minutes) from the capacity plan, with its safety headroom."""
    return lambda wildcards: capacity_plan().resources(stage, _job_name(stage, wildcards))[resource]
