"""Command line of the workflow's stages: `python -m benchmark <stage> ...`.

Snakemake rules call these; each is one call into the library. Bad input ends with one line
`error: ...` and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from benchmark import (
    aggregate,
    ars,
    behaviour,
    config,
    evaluation,
    generators,
    io,
    paths,
    provenance,
    report,
    scores,
    training,
)
from benchmark.errors import BenchmarkError
from benchmark.report.statistics import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark")
    commands = parser.add_subparsers(dest="stage", required=True)
    make = commands.add_parser("dataset", help="generate (or import) one dataset")
    make.add_argument("--spec", required=True, help="dataset spec as JSON")
    policy = commands.add_parser("policy", help="train one task's ARS behaviour policies (its recipe)")
    policy.add_argument("--env", required=True, help=f"MuJoCo task with a recipe: {', '.join(ars.RECIPES)}")
    policy.add_argument("--out", required=True, type=Path, help="folder for the snapshots and the card")
    policy.add_argument("--iterations", type=int, help="override the recipe's iterations (tests, quick looks)")
    behave = commands.add_parser("behaviour", help="train one shared behaviour policy (D4RL-style datasets)")
    behave.add_argument("--spec", required=True, help="behaviour spec as JSON")
    encode = commands.add_parser("features", help="encode a dataset once with MORE-3S's frozen encoder")
    encode.add_argument("--spec", required=True, help="features spec as JSON")
    encode.add_argument("--threads", type=int, default=1, help="torch threads")
    train = commands.add_parser("train", help="train one run")
    train.add_argument("--spec", required=True, help="run spec as JSON")
    for name, help_text in [("evaluate", "evaluate a run's checkpoints"), ("score", "score a run")]:
        commands.add_parser(name, help=help_text).add_argument("--run", required=True)
    collect = commands.add_parser("aggregate", help="metrics.json files -> scores.csv")
    collect.add_argument("metrics", nargs="+", type=Path)
    tabulate = commands.add_parser("report", help="results/ -> tables and figures")
    tabulate.add_argument("--settings", required=True, help="the preset's report block as JSON")
    readme = commands.add_parser("results-readme", help="write results/README.md for a reference run")
    readme.add_argument("--command", required=True, help="the exact command that made the results")
    readme.add_argument("--wall-s", required=True, type=float, help="its wall time in seconds")
    check = commands.add_parser("check-config", help="validate a preset file")
    check.add_argument("preset", type=Path)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    try:
        if args.stage == "dataset":
            spec = json.loads(args.spec)
            folder = paths.dataset_dir(spec["suite"], spec["env"], spec["name"])
            generators.generate(spec, folder, log_dir=folder / "logs")
        elif args.stage == "policy":
            if args.env not in ars.RECIPES:
                raise BenchmarkError(f"--env {args.env!r}: no ARS recipe; recipes: {', '.join(ars.RECIPES)}")
            recipe = ars.RECIPES[args.env]
            if args.iterations is not None:
                recipe = dataclasses.replace(recipe, iterations=args.iterations)
            ars.train(recipe, args.out)
        elif args.stage == "behaviour":
            spec = json.loads(args.spec)
            # one torch thread per job: more oversubscribes the cores (SAC ran ~10x slower)
            training.seed_everything(spec["seed"], spec["torch_threads"])
            behaviour.train_sac(spec["env"], spec["seed"], folder=Path(spec["dir"]), **spec["sac"])
        elif args.stage == "features":
            from more3s import features

            training.seed_everything(0, args.threads)
            features.build(features.FeaturesSpec.from_dict(json.loads(args.spec)))
        elif args.stage == "train":
            training.train(json.loads(args.spec))
        elif args.stage == "evaluate":
            evaluation.evaluate(args.run)
        elif args.stage == "score":
            scores.score_run(args.run)
        elif args.stage == "aggregate":
            aggregate.collect(args.metrics)
        elif args.stage == "report":
            report.report(Settings.from_preset(json.loads(args.settings)))
        elif args.stage == "results-readme":
            text = provenance.results_readme(
                args.command, args.wall_s, paths.SCORES, paths.RESOURCES / "datasets", paths.RESOURCES / "features"
            )
            io.write_text(paths.RESULTS / "README.md", text)
        elif args.stage == "check-config":
            config.load(args.preset)
            print(f"{args.preset}: valid")
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
