# Datasets are shared by every algorithm and seed that uses them: made once per (suite, env, name).
# D4RL-style MuJoCo datasets come from ARS policies (shipped in the package, or trained by
# `policy`) or from an online SAC trained once per (task, behaviour settings) (`behaviour`).
from benchmark.ars import SNAPSHOTS
from benchmark.behaviour import BEHAVIOUR_FILES


# `snakemake --cores 2 policies`: train the preset's ARS behaviour policies again from their
# recipes (benchmark/ars.py), into resources/policies/; `policy: trained` datasets read those.
rule policies:
    input:
        [str(paths.policy_dir(suite, env) / paths.POLICY_CARD) for suite, env in presets.policy_envs(PRESET)],


rule policy:
    output:
        snapshots=str(paths.policy_dir() / SNAPSHOTS),
        card=str(paths.policy_dir() / paths.POLICY_CARD),
    params:
        out=lambda w: str(paths.policy_dir(w.suite, w.env)),
    log:
        "results/logs/policies/{suite}/{env}.log",
    benchmark:
        "results/benchmarks/policies/{suite}/{env}.tsv"
    wildcard_constraints:
        suite="mujoco",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=240,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark policy --env {wildcards.env} --out {params.out:q} > {log} 2>&1"


rule behaviour:
    output:
        files=[str(paths.behaviour_dir() / name) for name in BEHAVIOUR_FILES],
        card=str(paths.behaviour_dir() / paths.BEHAVIOUR_CARD),
    params:
        spec=behaviour_spec_json,
    log:
        "results/logs/behaviours/{suite}/{env}/{behaviour}.log",
    benchmark:
        "results/benchmarks/behaviours/{suite}/{env}/{behaviour}.tsv"
    wildcard_constraints:
        behaviour=r"sac-[0-9a-z\-]+",
    threads: PRESET.torch_threads
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark behaviour --spec {params.spec:q} > {log} 2>&1"


rule dataset:
    input:
        behaviour=lambda w: presets.behaviour_inputs(PRESET, w.suite, w.env, w.dataset),
    output:
        files=[str(paths.dataset_dir() / f"{field}.npy") for field in FIELDS],
        card=str(paths.dataset_dir() / paths.DATASET_CARD),
        manifest=str(paths.dataset_dir() / paths.MANIFEST),
    params:
        spec=dataset_spec_json,
    log:
        "results/logs/datasets/{suite}/{env}/{dataset}.log",
    benchmark:
        "results/benchmarks/datasets/{suite}/{env}/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=planned("dataset", "mem_mb"),
        runtime=planned("dataset", "runtime"),
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark dataset --spec {params.spec:q} > {log} 2>&1"
