# Datasets are shared by every algorithm and seed that uses them: made once per (suite, env, name).
# D4RL-style MuJoCo datasets come from a behaviour trained once per (task, behaviour settings).
from benchmark.behaviour import BEHAVIOUR_CARD, BEHAVIOUR_FILES


rule behaviour:
    output:
        files=[str(paths.behaviour_dir() / name) for name in BEHAVIOUR_FILES],
        card=str(paths.behaviour_dir() / BEHAVIOUR_CARD),
    params:
        spec=lambda w: json.dumps(presets.behaviour_spec(config, w.suite, w.env, w.behaviour), separators=(",", ":")),
    log:
        "results/logs/behaviours/{suite}/{env}/{behaviour}.log",
    benchmark:
        "results/benchmarks/behaviours/{suite}/{env}/{behaviour}.tsv"
    wildcard_constraints:
        behaviour=r"sac-[0-9a-z\-]+",
    threads: config.get("torch_threads", 1)
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark behaviour --spec {params.spec:q} > {log} 2>&1"


rule dataset:
    input:
        behaviour=lambda w: presets.behaviour_inputs(config, w.suite, w.env, w.dataset),
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
