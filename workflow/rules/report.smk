# Tables and figures from results/ alone (benchmark.report), two ways:
# - `report` (part of `all`) runs after the aggregate, like any stage;
# - `figures` (`snakemake --cores 1 figures`) rebuilds them from results/ as committed. It names
#   no input or output file, so Snakemake plans no upstream job (a fresh clone has no datasets or
#   checkpoints, and git's checkout order of mtimes must not trigger a rescore) and always runs it.


rule figures:
    params:
        settings=report_settings,
    log:
        "results/logs/report.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,  # minutes; the paper preset's 50k replications over its full grid take long
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark report --settings {params.settings:q} > {log} 2>&1"


use rule figures as report with:
    input:
        scores=str(paths.SCORES),
        evaluations=all_runs(str(paths.run_dir() / paths.EVALUATIONS)),
        configs=all_runs(str(paths.run_dir() / paths.RUN_CONFIG)),
        diagnostics=all_runs(str(paths.run_dir() / paths.DIAGNOSTICS)),
    output:
        report_outputs(),
    benchmark:
        "results/benchmarks/report.tsv"
