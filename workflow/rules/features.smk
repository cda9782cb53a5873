# MORE-3S's frozen encoder, run once per dataset (and per encoder input setting): every seed and
# ablation that encodes alike reads the same fp16 cache, and training never runs the encoder.


rule features:
    input:
        card=str(paths.dataset_dir() / CARD),
    output:
        card=str(paths.features_dir("{suite}", "{env}", "{dataset}") / "features.json"),
    params:
        spec=features_spec_json,
    log:
        "results/logs/features/{suite}/{env}/{dataset}/{features}.log",
    benchmark:
        "results/benchmarks/features/{suite}/{env}/{dataset}/{features}.tsv"
    wildcard_constraints:
        features=r"[a-z\-]+-[0-9a-f]{10}",
    threads: config.get("torch_threads", 1)
    resources:
        mem_mb=6000,
        runtime=240,
        **gpu_resources(),
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark features --spec {params.spec:q} --threads {threads} > {log} 2>&1"
