"""The paper preset's algorithms at the paper's model sizes: 2 gradient steps, a checkpoint, a
reload and a short evaluation each, on data in the real sources' formats, on the CPU.

The preset is config/paper.yaml cut down to what a CI machine runs: Breakout on a DQN-Replay
fixture, Hopper on a D4RL and a Minari fixture (the writers of tests/test_benchmark/test_importers.py,
a few dozen transitions each), one seed, 2 steps, one evaluation episode capped by the protocol.
Everything else is the paper preset's: its algorithm entries, hence the published
hyperparameters (the code's defaults; LXMERT base 768-wide 9/5/5 layers, GPT-2 small's first
6 blocks, DT's contexts). The stages run as the workflow runs them (`python -m benchmark
dataset | frames | features | train | evaluate`), in fresh processes that find no pretrained
weights (an empty Hugging Face cache), so the random-initialisation fallbacks are exercised and
must be recorded.

MORE-3S runs with the ablations that change the model's code path: `rtg-token` (a return token
interleaved with the step tokens), `rtg-none` (no return anywhere) and `memory` (the long-term
memory in every attention layer), on Breakout; MORE-3S itself also on Hopper (continuous head,
rendered frames). The other ablations change only what the frozen encoder is given (image-only,
text-only, paraphrases, leaky pairing) or skip the pretrained look-up (random-init): the model and
training code are `more3s`'s, and each would cost one more paper-size encoder. MORE-3S itself
gets its encoder outputs as the paper preset says (`features: live`: LXMERT base encodes each
batch during training); the three ablations read a cache (`features: cache`, encoded once by the
features stage), so both paths run at the paper's encoder size.

Peak RSS per algorithm (its train and evaluate jobs, and each features job) is the job process's
VmHWM (Linux): getrusage's maxrss carries the parent's peak over fork and exec, and the parent
here loads paper-size checkpoints. `-s` prints the table.

    .venv/bin/python -m pytest tests/test_paper_scale.py -s
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO
from test_benchmark.test_importers import write_d4rl, write_minari, write_replay

from benchmark import algorithms, checkpoints, config, dataset_stage, io, paths
from benchmark.preset import Preset
from benchmark.specs import RunSpec
from more3s import features

pytestmark = pytest.mark.slow

ALGORITHMS = ("cql", "bc", "dt", "more3s", "more3s-rtg-token", "more3s-rtg-none", "more3s-memory")
ON_HOPPER_MEDIUM = ["cql", "bc", "dt", "more3s"]  # the ablations' model paths run on Breakout
ON_MINARI = ["cql", "bc", "dt"]  # the same stored format as D4RL's after import
CACHED = ("more3s-rtg-token", "more3s-rtg-none", "more3s-memory")  # `features: cache`; more3s: the preset's
ATARI_FRAMES = 200  # evaluation cap: 50 agent steps
MUJOCO_STEPS = 30
# Sequences (or transitions) per step: the model sizes are the paper's, the batch is CI's (live
# MORE-3S encodes batch x context pairs a step with LXMERT base, ~10 GFLOP a pair).
BATCH = 2
WORKERS = 2  # jobs at once (CI's cores; each job runs one torch thread, as the paper preset's)
# What the paper says, checked against what each run recorded (and, below, built).
PAPER_SIZES: dict[tuple[str, str], dict[str, Any]] = {
    ("cql", "atari"): {"n_quantiles": 200, "feature_size": 512},
    ("cql", "mujoco"): {"hidden_units": [256, 256, 256]},
    ("bc", "atari"): {"feature_size": 512},
    ("bc", "mujoco"): {"hidden_units": [256, 256]},
    ("dt", "atari"): {"context_size": 30, "num_layers": 6, "num_heads": 8, "embed_size": 128},
    ("dt", "mujoco"): {"context_size": 20, "num_layers": 3, "num_heads": 1, "embed_size": 128},
    **{
        ("more3s", suite): {
            "context_size": context,
            "num_layers": 6,
            "num_heads": 12,
            "embed_size": 768,
            "encoder_hidden_size": 768,
            "encoder_heads": 12,
            "encoder_language_layers": 9,
            "encoder_cross_layers": 5,
            "encoder_visual_layers": 5,
        }
        for suite, context in (("atari", 30), ("mujoco", 20))
    },
}
# Peak RSS bounds per job process (MB), ~1.4x or more over what was measured (2026-12-01, 2 cores
# under load): cql 631, bc 595, dt 640, more3s 3584 (live: LXMERT base in the training process),
# cached ablations 2488-2531, features jobs 1341-1645.
RSS_BOUND_MB = {"cql": 1000, "bc": 1000, "dt": 1000, "more3s": 5000, "features": 2500}

# Stage command lines (benchmark.__main__) one after another in this process, then its peak RSS.
JOBS = """
import json, sys
from benchmark.__main__ import main
for argv in json.loads(sys.argv[1]):
    if main(argv) != 0:
        sys.exit(f"python -m benchmark {argv[0]} failed")
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"peak_rss_mb": peak / 1024}))
"""


def family(algorithm: str) -> str:
    return "more3s" if algorithm.startswith("more3s") else algorithm


def paper_scale_preset(mirror: Path) -> Preset:
    """config/paper.yaml with its data replaced by the fixtures under `mirror`, cut to CI's size."""
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    atari, mujoco = paper["suites"]["atari"], paper["suites"]["mujoco"]
    budget = {"steps": 2, "batch_size": BATCH, "eval_every": 2}
    dqn = atari["datasets"]["dqn-replay-1pct"]
    preset = {
        **paper,
        "mirror": str(mirror),
        "seeds": paper["seeds"][:1],
        "suites": {
            "atari": {
                "envs": {"breakout": atari["envs"]["breakout"]},
                "datasets": {
                    "dqn-replay-1pct": {**dqn, "transitions": 64, "num_buffers": 2, "last_checkpoint": 2},
                },
                "protocol": {"max_episode_frames": ATARI_FRAMES},
                "training": budget,
                "evaluation": {"episodes": 1},
            },
            "mujoco": {
                "envs": {"hopper": mujoco["envs"]["hopper"]},
                "datasets": {
                    "medium": {**mujoco["datasets"]["medium"], "algorithms": ON_HOPPER_MEDIUM},
                    "minari": {"source": "minari", "path": "minari/mujoco/{env}/medium-v0", "algorithms": ON_MINARI},
                },
                "protocol": {"max_episode_steps": MUJOCO_STEPS},
                "training": budget,
                "evaluation": {"episodes": 1},
            },
        },
        "algorithms": {name: paper["algorithms"][name] or {} for name in ALGORITHMS},
    }
    for name in CACHED:
        entry = preset["algorithms"][name]
        preset["algorithms"][name] = {**entry, "atari": {**entry.get("atari", {}), "features": "cache"}}
    return config.validate(preset)


def write_fixtures(mirror: Path) -> None:
    write_replay(mirror / "dqn-replay" / "Breakout" / "1" / "replay_logs")
    write_d4rl(mirror / "d4rl" / "hopper_medium-v2.hdf5", n=64)
    write_minari(mirror / "minari", "mujoco/hopper/medium-v0", lengths=(20, 24, 20))


@dataclass
class Job:
    name: str  # an algorithm, or "features <suite> <storage>"
    argv: list[list[str]]  # stage command lines, run in order in one process
    peak_rss_mb: float = math.nan
    output: str = ""


@dataclass
class PaperScale:
    project: Path
    preset: Preset
    runs: list[dict[str, Any]]  # run specs
    jobs: dict[str, Job]


def run_jobs(jobs: list[Job], project: Path, env: dict[str, str]) -> None:
    def run(job: Job) -> None:
        done = subprocess.run(
            [sys.executable, "-c", JOBS, json.dumps(job.argv)], cwd=project, env=env, capture_output=True, text=True
        )
        job.output = done.stdout + done.stderr
        assert done.returncode == 0, f"{job.name}:\n{job.output[-5000:]}"
        job.peak_rss_mb = json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"]

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(run, jobs))


@pytest.fixture(scope="module")
def paper_scale() -> Iterator[PaperScale]:
    """Datasets imported, features encoded, every run trained and evaluated; removed afterwards
    (paper-size checkpoints and encoders: gigabytes)."""
    project = Path(tempfile.mkdtemp(prefix="paper-scale-"))
    try:
        write_fixtures(project / "mirror")
        preset = paper_scale_preset(project / "mirror")
        keys = config.grid(preset)
        for suite, env, name in sorted({(k.suite, k.env, k.dataset) for k in keys}):
            folder = project / paths.dataset_dir(suite, env, name)
            dataset_stage.generate(config.dataset_spec(preset, suite, env, name), folder, folder / "logs")
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "CUDA_VISIBLE_DEVICES": "",  # on the CPU, even where a GPU is visible
            "HF_HOME": str(project / "empty-hf-home"),  # no pretrained weights to find: the fallbacks run
            "HF_HUB_CACHE": str(project / "empty-hf-home" / "hub"),
            "HF_HUB_OFFLINE": "1",
        }
        caches = [
            Job(
                f"features {spec.suite} {spec.storage}",
                ([["frames", "--spec", json.dumps(dataclasses.asdict(spec.frames))]] if spec.frames else [])
                + [["features", "--spec", json.dumps(dataclasses.asdict(spec))]],
            )
            for spec in config.features_grid(preset).values()
        ]
        runs = [config.run_spec(preset, key).to_dict() for key in keys]  # as the train stage gets them
        trained = {
            name: Job(
                name,
                [
                    stage
                    for spec in runs
                    if spec["key"]["algorithm"] == name
                    for stage in (["train", "--spec", json.dumps(spec)], ["evaluate", "--run", spec["run"]])
                ],
            )
            for name in ALGORITHMS
        }
        baselines = [job for name, job in trained.items() if family(name) != "more3s"]
        run_jobs(caches + baselines, project, env)  # MORE-3S's runs read the caches
        run_jobs([job for name, job in trained.items() if family(name) == "more3s"], project, env)
        yield PaperScale(project, preset, runs, {job.name: job for job in caches + list(trained.values())})
    finally:
        shutil.rmtree(project, ignore_errors=True)


def recorded(spec: dict[str, Any]) -> dict[str, Any]:
    return io.read_json(paths.run_dir(spec["run"]) / "config.json")


def test_every_algorithm_of_the_paper_preset_ran_on_every_source(paper_scale: PaperScale) -> None:
    ran = {(spec["key"]["algorithm"], spec["dataset"]["source"]) for spec in paper_scale.runs}
    for name in ALGORITHMS:
        assert (name, "dqn-replay") in ran
    assert {source for _, source in ran} == {"dqn-replay", "d4rl", "minari"}
    assert set(ALGORITHMS) <= set(yaml.safe_load((REPO / "config" / "paper.yaml").read_text())["algorithms"])


def test_runs_are_at_the_papers_sizes(paper_scale: PaperScale, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(paper_scale.project)
    for spec in paper_scale.runs:
        name, suite = spec["key"]["algorithm"], spec["key"]["suite"]
        hyper = recorded(spec)["hyperparameters"]
        overrides = dict(paper_scale.preset.algorithms[name].get(suite, {}))
        assert set(overrides) <= {"features"}  # the published values but for where encoder outputs come from
        published = algorithms.hyperparameters(name, suite, overrides)
        assert hyper == json.loads(json.dumps(published)), spec["run"]  # as JSON stores it: tuples are lists
        for key, value in PAPER_SIZES[(family(name), suite)].items():
            assert hyper[key] == value, (spec["run"], key)


def test_two_steps_with_finite_losses(paper_scale: PaperScale, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(paper_scale.project)
    for spec in paper_scale.runs:
        log = pd.read_csv(paths.run_dir(spec["run"]) / "train_log.csv")
        assert log["train_step"].tolist() == [2], spec["run"]
        losses = [c for c in log.columns if c == "loss" or c.endswith("_loss")]
        assert losses and np.isfinite(log[losses].to_numpy()).all(), (spec["run"], log.to_dict("records"))
        assert recorded(spec)["execution"]["device"] == "cpu:0"


def test_checkpoints_reload_whole(paper_scale: PaperScale, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each checkpoint loads into a fresh algorithm (as evaluation loads it) and saves back to the
    same tensors: names, shapes, dtypes and values; float32 weights; the paper's sizes built."""
    monkeypatch.chdir(paper_scale.project)
    for spec in paper_scale.runs:
        kept = io.read_json(paths.checkpoint_dir(spec["run"]) / "checkpoints.json")["checkpoints"]
        assert [c["train_step"] for c in kept] == [2]
        path = Path(kept[-1]["path"])
        run = RunSpec.from_dict(spec, spec["run"])
        algorithm = checkpoints.load_checkpoint(run, path, run.env_spec())
        again = tmp_path / path.name
        algorithm.save(again)
        saved, resaved = (torch.load(p, weights_only=True, map_location="cpu") for p in (path, again))
        first, second = flatten(saved), flatten(resaved)
        assert first.keys() == second.keys(), spec["run"]
        for key, tensor in first.items():
            assert tensor.shape == second[key].shape and tensor.dtype == second[key].dtype, (spec["run"], key)
            assert torch.equal(tensor, second[key]), (spec["run"], key)
        weights = [t for k, t in first.items() if t.is_floating_point() and "optim" not in k]
        assert weights and all(t.dtype == torch.float32 and torch.isfinite(t).all() for t in weights), spec["run"]
        check_built_sizes(spec, first)


def flatten(state: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor of a (nested) checkpoint, by dotted path."""
    if isinstance(state, torch.Tensor):
        return {prefix: state}
    if isinstance(state, dict):
        items: Any = state.items()
    elif isinstance(state, list | tuple):
        items = enumerate(state)
    else:
        return {}
    return {k: v for key, value in items for k, v in flatten(value, f"{prefix}.{key}" if prefix else str(key)).items()}


def check_built_sizes(spec: dict[str, Any], state: dict[str, torch.Tensor]) -> None:
    """The weights have the shapes the paper's sizes give (not just the recorded numbers)."""
    name, suite = spec["key"]["algorithm"], spec["key"]["suite"]
    hyper = spec["hyperparameters"]
    if family(name) == "more3s":
        width, tokens = hyper["embed_size"], 56  # 20 text + 36 region outputs of the encoder
        assert state["fuse.mlp.0.weight"].shape == (width, tokens * hyper["encoder_hidden_size"])
        blocks = {k.split(".")[1] for k in state if k.startswith("blocks.")}
        assert len(blocks) == hyper["num_layers"]
        assert state["blocks.0.attn.qkv.weight"].shape == (width, 3 * width)  # GPT-2's Conv1D: (in, out)
        rtg = {"attention": "blocks.0.attn.key_rtg.weight", "token": "embed_return.weight"}.get(hyper["rtg_mode"])
        if rtg:
            assert rtg in state, (spec["run"], rtg)
        assert not any(".key_rtg." in k for k in state) or hyper["rtg_mode"] == "attention"
        assert any(".memory." in k for k in state) == hyper["memory"]
        return
    if name == "dt":
        block = "transformer._gpt2._transformer"
        assert len({k.split(".")[3] for k in state if k.startswith(block)}) == hyper["num_layers"]
        assert state[f"{block}.0._attention._q.weight"].shape == (hyper["embed_size"], hyper["embed_size"])
        assert state[f"{block}.0._attention._mask"].shape[-1] == 3 * hyper["context_size"]  # return, state, action
        return
    module = "q_funcs.0" if name == "cql" else "imitator"
    if suite == "atari":
        assert state[f"{module}._encoder._last_layers.0.weight"].shape == (hyper["feature_size"], 64 * 7 * 7)
        if name == "cql":  # Breakout's 4 actions x the quantiles
            assert state["q_funcs.0._fc.weight"].shape == (4 * hyper["n_quantiles"], hyper["feature_size"])
        return
    layers = [t.shape[0] for k, t in state.items() if k.startswith(f"{module}._encoder._layers.") and t.ndim == 2]
    assert layers == list(hyper["hidden_units"]), (spec["run"], layers)


def test_short_evaluation_ran_on_the_reloaded_checkpoint(
    paper_scale: PaperScale, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(paper_scale.project)
    for spec in paper_scale.runs:
        evaluations = pd.read_csv(paths.run_dir(spec["run"]) / "eval.csv")
        assert evaluations[["train_step", "episode"]].values.tolist() == [[2, 0]], spec["run"]
        cap = ATARI_FRAMES // 4 if spec["key"]["suite"] == "atari" else MUJOCO_STEPS
        assert 0 < evaluations["length"].iloc[0] <= cap and np.isfinite(evaluations["return"]).all()


def test_the_pretrained_weight_fallbacks_are_recorded(paper_scale: PaperScale, monkeypatch: pytest.MonkeyPatch) -> None:
    """No LXMERT or GPT-2 weights on this machine: both are randomly initialised at full size, a
    warning says so, and the run's config.json, its features.json and the cache's card record it."""
    monkeypatch.chdir(paper_scale.project)
    for spec in paper_scale.runs:
        pretrained = recorded(spec)["pretrained"]
        if family(spec["key"]["algorithm"]) != "more3s":
            assert pretrained == "no"
            continue
        assert pretrained == "lxmert=no; text=no; gpt2=no", spec["run"]
        card = io.read_json(paths.run_dir(spec["run"]) / "features.json")
        assert card["pretrained"] == {"lxmert": "no", "text": "no"}
        assert card["shape"][1:] == [56, 768]
    for job in paper_scale.jobs.values():
        if job.name.startswith("features"):
            assert "LXMERT weights 'unc-nlp/lxmert-base-uncased' not found on this machine" in job.output
    for name in ALGORITHMS[3:]:
        assert "GPT-2 weights 'gpt2' not found on this machine: random initialisation" in paper_scale.jobs[name].output


def test_encoder_outputs_at_the_paper_encoder_size(paper_scale: PaperScale, monkeypatch: pytest.MonkeyPatch) -> None:
    """One features folder per dataset and storage: a cache (fp16, every pair encoded) for the
    ablations, live folders (the encoder and texts; MuJoCo frames drawn once) for MORE-3S."""
    monkeypatch.chdir(paper_scale.project)
    specs = config.features_grid(paper_scale.preset).values()
    assert sorted((spec.suite, spec.storage) for spec in specs) == [
        ("atari", "cache"),
        ("atari", "live"),
        ("mujoco", "live"),
    ]
    for spec in specs:
        card = io.read_json(spec.folder / features.CARD)
        assert card["shape"][1:] == [56, 768] and card["pretrained"] == {"lxmert": "no", "text": "no"}
        encoder = io.read_json(spec.folder / "encoder.json")["config"]
        assert (encoder["hidden_size"], encoder["l_layers"], encoder["x_layers"], encoder["r_layers"]) == (768, 9, 5, 5)
        if spec.storage == "cache":
            encoded = np.load(spec.folder / "features.npy", mmap_mode="r")
            assert encoded.dtype == np.float16 and encoded.shape == tuple(card["shape"])
            assert np.isfinite(encoded).all()
        elif spec.frames is not None:
            frames = np.load(spec.frames.folder / "frames.npy", mmap_mode="r")
            assert frames.dtype == np.uint8 and frames.shape == (card["shape"][0], 84, 84, 3)


def test_peak_rss_per_algorithm_is_bounded(paper_scale: PaperScale) -> None:
    print("\npeak RSS per job process (VmHWM, MB), paper model sizes, batch", BATCH)
    for job in paper_scale.jobs.values():
        print(f"  {job.name:18s} {job.peak_rss_mb:8.0f}")
    for job in paper_scale.jobs.values():
        bound = RSS_BOUND_MB["features" if job.name.startswith("features") else family(job.name)]
        assert job.peak_rss_mb < bound, (job.name, job.peak_rss_mb)
