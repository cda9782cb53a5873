# Why a run wins or loses (benchmark.diagnostics): its last checkpoint teacher-forced on held-out
# data of the same behaviour (a `<dataset>.heldout` dataset the dataset rule makes with another
# seed), the algorithm's own measurements, and a closed-loop error curve where the behaviour
# policy is known.


rule diagnose:
    input:
        config=str(paths.run_dir() / paths.RUN_CONFIG),
        checkpoints=str(paths.checkpoint_dir() / paths.CHECKPOINT_MANIFEST),
        heldout=heldout_inputs,
    output:
        str(paths.run_dir() / paths.DIAGNOSTICS),
    params:
        run=RUN,
    log:
        f"results/logs/diagnose/{RUN}.log",
    benchmark:
        f"results/benchmarks/diagnose/{RUN}.tsv"
    threads: PRESET.torch_threads
    resources:
        mem_mb=planned("diagnose", "mem_mb"),
        runtime=planned("diagnose", "runtime"),
        **gpu_resources(),
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark diagnose --run {params.run:q} > {log} 2>&1"
