"""Command line of the workflow's stages: `python -m benchmark <stage> ...`.

Snakemake rules call these; each is one call into the library. Bad input (a preset, a spec, a
file, a full disk, the command line itself) ends with one line `error: ...` and exit status 2,
never a traceback. Each stage first removes the temp files a killed run of it left behind.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from benchmark import runtime

runtime.configure()  # before any stage module imports gymnasium, MuJoCo, matplotlib, d3rlpy or transformers

# The stages that run a network or an env import their modules where they run: checking and
# planning a preset and building the report load neither torch nor gymnasium.
from benchmark import aggregate, ars, config, dataset_stage, io, paths, plan, report, results_readme, scores  # noqa: E402
from benchmark.errors import BenchmarkError  # noqa: E402
from benchmark.report import compare, reproduction  # noqa: E402
from benchmark.report.statistics import Settings  # noqa: E402
from benchmark.specs import BehaviourSpec, DatasetSpec, RunSpec, check_names, name_pattern  # noqa: E402
from more3s.specs import FeaturesSpec, FramesSpec  # noqa: E402


class _Parser(argparse.ArgumentParser):
    """argparse whose misuse messages are the one line every bad input gets (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message}\n")


def _run_id(text: str) -> str:
    """--run: a run id as paths.RUN spells it (names as the preset schema allows), so that it can
    only name a folder under results/runs/."""
    name = name_pattern().strip("^$")
    pattern = paths.RUN.format(suite="(atari|mujoco)", env=name, dataset=name, algorithm=name, seed=r"\d+")
    if not re.fullmatch(pattern, text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a run id <suite>/<env>/<dataset>/<algorithm>/seed<k>")
    return text


def _positive(text: str) -> float:
    """--threshold: a practical threshold in normalised points, above 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
    return value


def _check_json_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--spec, --settings and --config are JSON objects (Snakemake writes them; a person may mistype one)."""
    for name in ("spec", "settings", "config"):
        text = getattr(args, name, None)
        if text is None:
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            parser.error(f"argument --{name}: not JSON ({error})")
        if not isinstance(value, dict):
            parser.error(f"argument --{name}: a JSON object is expected, not {type(value).__name__}")


def _cache_spec(kind: type, text: str, names: tuple[str, ...]) -> Any:
    """A features or frames --spec (more3s.specs), its names checked as a preset's are."""
    record = json.loads(text)
    checked = {name: record.get(name) for name in names}
    if isinstance(checked.get("dataset"), str):  # the cache of a held-out dataset (the diagnose stage's)
        checked["dataset"] = checked["dataset"].removesuffix(paths.HELDOUT)
    check_names("argument --spec", **checked)
    try:
        return kind.from_dict(record)
    except (KeyError, TypeError, ValueError) as error:
        missing = f"key {error}: missing" if isinstance(error, KeyError) else str(error).splitlines()[0]
        raise BenchmarkError(f"argument --spec: not a {kind.__name__} ({missing})") from error


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m benchmark")
    commands = parser.add_subparsers(dest="stage", required=True)
    make = commands.add_parser("dataset", help="generate (or import) one dataset")
    make.add_argument("--spec", required=True, help="dataset spec as JSON")
    policy = commands.add_parser("policy", help="train one task's ARS behaviour policies (its recipe)")
    policy.add_argument("--env", required=True, help=f"MuJoCo task with a recipe: {', '.join(ars.RECIPES)}")
    policy.add_argument("--out", required=True, type=Path, help="folder for the snapshots and the card")
    policy.add_argument("--iterations", type=int, help="override the recipe's iterations (tests, quick looks)")
    policy.add_argument(
        "--remeasure",
        action="store_true",
        help="no training: measure the folder's chosen expert and medium again on fresh episodes, onto its card",
    )
    behave = commands.add_parser("behaviour", help="train one shared behaviour policy (D4RL-style datasets)")
    behave.add_argument("--spec", required=True, help="behaviour spec as JSON")
    encode = commands.add_parser("features", help="encode a dataset once with MORE-3S's frozen encoder")
    encode.add_argument("--spec", required=True, help="features spec as JSON")
    encode.add_argument("--threads", type=int, default=1, help="torch threads")
    draw = commands.add_parser(
        "frames", help="draw every state of a MuJoCo dataset once (live MORE-3S features, bc-pixels)"
    )
    draw.add_argument("--spec", required=True, help="frames spec as JSON")
    train = commands.add_parser("train", help="train one run")
    train.add_argument("--spec", required=True, help="run spec as JSON")
    for name, help_text in [
        ("evaluate", "evaluate a run's checkpoints"),
        ("diagnose", "measure a run's last checkpoint on held-out data"),
        ("score", "score a run"),
    ]:
        commands.add_parser(name, help=help_text).add_argument("--run", required=True, type=_run_id)
    collect = commands.add_parser("aggregate", help="metrics.json files -> scores.csv")
    collect.add_argument("metrics", nargs="+", type=Path)
    tabulate = commands.add_parser("report", help="results/ -> tables and figures")
    tabulate.add_argument("--settings", required=True, help="the preset's report block as JSON")
    readme = commands.add_parser("results-readme", help="write results/README.md for a reference run")
    readme.add_argument("--command", required=True, help="the exact command that made the results")
    readme.add_argument("--wall-s", required=True, type=float, help="its wall time in seconds")
    versus = commands.add_parser("compare", help="did it reproduce? two results folders, or one and the published")
    versus.add_argument("a", help="a results folder (its scores.csv; its runs/ too against the published numbers)")
    versus.add_argument("b", help=f"the results folder it is compared with, or `{compare.PUBLISHED}`")
    versus.add_argument("--out", required=True, type=Path, help="folder for the tables and the figure")
    versus.add_argument(
        "--threshold",
        type=_positive,
        default=reproduction.THRESHOLD,
        help=f"practical threshold of `different`, normalised points (default {reproduction.THRESHOLD:g})",
    )
    defaults = config.report_defaults()  # a preset's without a `report:` block
    versus.add_argument(
        "--bootstrap-reps",
        type=int,
        default=defaults.bootstrap_reps,
        help="bootstrap replications (default %(default)s)",
    )
    versus.add_argument("--seed", type=int, default=defaults.seed, help="the bootstrap's seed (default %(default)s)")
    check = commands.add_parser("check-config", help="validate a preset file")
    check.add_argument("preset", type=Path)
    capacity = commands.add_parser("plan", help="what a preset will cost: jobs, CPU/GPU hours, memory, disk")
    capacity.add_argument("preset", type=Path, nargs="?", help="the preset file (config/<preset>.yaml)")
    capacity.add_argument("--config", help="the preset as JSON instead (Snakemake's merged config)")
    capacity.add_argument("--out", type=Path, help="also write the plan (Markdown) to this file")
    args = parser.parse_args(argv)
    _check_json_arguments(parser, args)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    # PyOpenGL (MuJoCo's EGL rendering) logs at INFO that its optional accelerator is absent: noise
    logging.getLogger("OpenGL").setLevel(logging.WARNING)
    try:
        if args.stage == "dataset":
            dataset_spec = DatasetSpec.from_dict(json.loads(args.spec), "argument --spec")
            io.remove_stale_temps(dataset_spec.folder)
            dataset_stage.generate(dataset_spec, dataset_spec.folder, log_dir=dataset_spec.folder / "logs")
        elif args.stage == "policy":
            if args.env not in ars.RECIPES:
                raise BenchmarkError(f"--env {args.env!r}: no ARS recipe; recipes: {', '.join(ars.RECIPES)}")
            recipe = ars.RECIPES[args.env]
            if args.iterations is not None:
                recipe = dataclasses.replace(recipe, iterations=args.iterations)
            io.remove_stale_temps(args.out, args.out / ars.CHECKPOINT)
            if args.remeasure:
                ars.remeasure(recipe, args.out)
            else:
                ars.train(recipe, args.out)
        elif args.stage == "behaviour":
            from benchmark import behaviour, seeding

            behaviour_spec = BehaviourSpec.from_dict(json.loads(args.spec), "argument --spec")
            folder = Path(behaviour_spec.dir)
            # one torch thread per job: more oversubscribes the cores (SAC ran ~10x slower)
            io.remove_stale_temps(folder)
            seeding.seed_everything(behaviour_spec.seed, behaviour_spec.torch_threads)
            behaviour.train_sac(behaviour_spec.env, behaviour_spec.seed, folder=folder, **behaviour_spec.sac)
        elif args.stage == "features":
            from benchmark import seeding
            from more3s import features

            seeding.seed_everything(0, args.threads)
            encode_spec = _cache_spec(FeaturesSpec, args.spec, ("suite", "env", "dataset"))
            io.remove_stale_temps(encode_spec.folder)
            features.build(encode_spec)
        elif args.stage == "frames":
            from more3s import features

            frames_spec = _cache_spec(FramesSpec, args.spec, ("env", "dataset"))
            io.remove_stale_temps(frames_spec.folder)
            features.build_frames(frames_spec)
        elif args.stage == "train":
            from benchmark import training

            run_spec = RunSpec.from_dict(json.loads(args.spec), "argument --spec")
            io.remove_stale_temps(paths.run_dir(run_spec.run), paths.checkpoint_dir(run_spec.run))
            training.train(run_spec)
        elif args.stage == "evaluate":
            from benchmark import evaluation

            io.remove_stale_temps(paths.run_dir(args.run))
            evaluation.evaluate(args.run)
        elif args.stage == "diagnose":
            from benchmark import diagnostics

            io.remove_stale_temps(paths.run_dir(args.run))
            diagnostics.diagnose(args.run)
        elif args.stage == "score":
            io.remove_stale_temps(paths.run_dir(args.run))
            scores.score_run(args.run)
        elif args.stage == "aggregate":
            io.remove_stale_temps(paths.RESULTS)
            aggregate.collect(args.metrics)
        elif args.stage == "report":
            io.remove_stale_temps(paths.TABLES, paths.FIGURES)
            report.report(Settings.from_preset(json.loads(args.settings)))
        elif args.stage == "compare":
            if args.bootstrap_reps < 1:
                raise BenchmarkError(f"--bootstrap-reps {args.bootstrap_reps}: at least 1")
            io.remove_stale_temps(args.out)
            reps = args.bootstrap_reps
            settings = Settings(focus="", bootstrap_reps=reps, profile_bootstrap_reps=reps, seed=args.seed)
            found = compare.compare(args.a, args.b, args.out, settings, args.threshold)
            counted = reproduction.counts(found["verdict"], found["protocol_differences"])
            print(f"{args.a} against {args.b}: {counted}; tables and figure in {args.out}")
        elif args.stage == "results-readme":
            text = results_readme.make(
                args.command, args.wall_s, paths.SCORES, paths.RESOURCES / "datasets", paths.RESOURCES / "features"
            )
            io.remove_stale_temps(paths.RESULTS)
            io.write_text(paths.RESULTS / "README.md", text)
        elif args.stage == "check-config":
            plan.check(config.load(args.preset))
            print(f"{args.preset}: valid")
        elif args.stage == "plan":
            if (args.preset is None) == (args.config is None):
                raise BenchmarkError("plan: give a preset file or --config, one of them")
            preset = config.load(args.preset) if args.preset else config.validate(json.loads(args.config))
            plan.check(preset)
            text = plan.make(preset).markdown()
            if args.out:
                io.write_text(args.out, text)
            print(text, end="")
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the environment: a missing file, a full disk, a read-only folder
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
