# One job per run: the algorithm is looked up by name in the registry (baselines/, more3s/).


rule train:
    input:
        manifest=str(paths.dataset_dir() / paths.MANIFEST),
        features=features_inputs,
        frames=run_frames_inputs,
    output:
        config=str(paths.run_dir() / paths.RUN_CONFIG),
        train_log=str(paths.run_dir() / paths.TRAIN_LOG),
        checkpoints=str(paths.checkpoint_dir() / paths.CHECKPOINT_MANIFEST),
        manifest=str(paths.checkpoint_dir() / paths.MANIFEST),
    params:
        spec=run_spec_json,
    log:
        f"results/logs/train/{RUN}.log",
    benchmark:
        f"results/benchmarks/train/{RUN}.tsv"
    threads: PRESET.torch_threads
    resources:
        mem_mb=planned("train", "mem_mb"),
        runtime=planned("train", "runtime"),
        **gpu_resources(),
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark train --spec {params.spec:q} > {log} 2>&1"
