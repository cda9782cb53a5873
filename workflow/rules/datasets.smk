# Datasets are shared by every algorithm and seed that uses them: made once per (suite, env, name).


rule dataset:
    output:
        files=[str(paths.dataset_dir() / f"{field}.npy") for field in FIELDS],
        card=str(paths.dataset_dir() / CARD),
    params:
        spec=dataset_spec_json,
    log:
        "results/logs/datasets/{suite}/{env}/{dataset}.log",
    benchmark:
        "results/benchmarks/datasets/{suite}/{env}/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark dataset --spec {params.spec:q} > {log} 2>&1"
