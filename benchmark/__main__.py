"""Command line of the workflow's stages: `python -m benchmark <stage> ...`.

Snakemake rules call these; each is one call into the library. Bad input ends with one line
`error: ...` and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from benchmark import aggregate, config, datasets, evaluation, paths, report, scores, training
from benchmark.errors import BenchmarkError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("dataset", help="generate (or import) one dataset")
    make.add_argument("--spec", required=True, help="dataset spec as JSON")
    train = commands.add_parser("train", help="train one run")
    train.add_argument("--spec", required=True, help="run spec as JSON")
    for name, help_text in [("evaluate", "evaluate a run's checkpoints"), ("score", "score a run")]:
        commands.add_parser(name, help=help_text).add_argument("--run", required=True)
    collect = commands.add_parser("aggregate", help="metrics.json files -> scores.csv")
    collect.add_argument("metrics", nargs="+", type=Path)
    commands.add_parser("report", help="scores.csv -> tables and figures")
    check = commands.add_parser("check-config", help="validate a preset file")
    check.add_argument("preset", type=Path)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    try:
        if args.command == "dataset":
            spec = json.loads(args.spec)
            folder = paths.dataset_dir(spec["suite"], spec["env"], spec["name"])
            datasets.generate(spec, folder, log_dir=folder / "logs")
        elif args.command == "train":
            training.train(json.loads(args.spec))
        elif args.command == "evaluate":
            evaluation.evaluate(args.run)
        elif args.command == "score":
            scores.score_run(args.run)
        elif args.command == "aggregate":
            aggregate.collect(args.metrics)
        elif args.command == "report":
            report.report()
        elif args.command == "check-config":
            config.load(args.preset)
            print(f"{args.preset}: valid")
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
