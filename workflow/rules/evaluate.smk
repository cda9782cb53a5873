# Every checkpoint of a run, many episodes at once (benchmark.evaluation).


rule evaluate:
    input:
        config=str(paths.run_dir() / paths.RUN_CONFIG),
        checkpoints=str(paths.checkpoint_dir() / paths.CHECKPOINT_MANIFEST),
        manifest=str(paths.checkpoint_dir() / paths.MANIFEST),
    output:
        str(paths.run_dir() / paths.EVALUATIONS),
    params:
        run=RUN,
    log:
        f"results/logs/evaluate/{RUN}.log",
    benchmark:
        f"results/benchmarks/evaluate/{RUN}.tsv"
    threads: PRESET.torch_threads
    resources:
        mem_mb=planned("evaluate", "mem_mb"),
        runtime=planned("evaluate", "runtime"),
        **gpu_resources(),  # sequence models and MORE-3S's live encoder run on it
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark evaluate --run {params.run:q} > {log} 2>&1"
