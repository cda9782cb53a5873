# One row per run in results/scores.csv, rebuilt whole from the metrics files.


rule aggregate:
    input:
        all_runs(str(paths.run_dir() / paths.METRICS)),
    output:
        str(paths.SCORES),
    log:
        "results/logs/aggregate.log",
    benchmark:
        "results/benchmarks/aggregate.tsv"
    localrule: True  # seconds of work: on a cluster, run where Snakemake runs rather than queue a job
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark aggregate {input:q} > {log} 2>&1"
