# Raw and normalised scores of one run, final and best (benchmark.scores).


rule score:
    input:
        config=str(paths.run_dir() / paths.RUN_CONFIG),
        train_log=str(paths.run_dir() / paths.TRAIN_LOG),
        evaluations=str(paths.run_dir() / paths.EVALUATIONS),
    output:
        str(paths.run_dir() / paths.METRICS),
    params:
        run=RUN,
    log:
        f"results/logs/score/{RUN}.log",
    benchmark:
        f"results/benchmarks/score/{RUN}.tsv"
    localrule: True  # seconds of work: on a cluster, run where Snakemake runs rather than queue a job
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark score --run {params.run:q} > {log} 2>&1"
