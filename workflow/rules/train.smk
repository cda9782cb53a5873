# One job per run: the algorithm is looked up by name in the registry (baselines/, more3s/).


rule train:
    input:
        card=str(paths.dataset_dir() / CARD),
        features=features_inputs,
    output:
        config=str(paths.run_dir() / "config.json"),
        train_log=str(paths.run_dir() / "train_log.csv"),
        checkpoints=str(paths.checkpoint_dir() / "checkpoints.json"),
    params:
        spec=run_spec_json,
    log:
        f"results/logs/train/{RUN}.log",
    benchmark:
        f"results/benchmarks/train/{RUN}.tsv"
    threads: config.get("torch_threads", 1)
    resources:
        mem_mb=planned("train", "mem_mb"),
        runtime=planned("train", "runtime"),
        **gpu_resources(),
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark train --spec {params.spec:q} > {log} 2>&1"
