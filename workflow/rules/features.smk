# MORE-3S's frozen encoder, run once per dataset (and per encoder input setting): every seed and
# ablation that encodes alike reads the same fp16 cache, and training never runs the encoder.
# With `features: live` the folder keeps the encoder and texts only; MuJoCo frames are drawn once
# per dataset and render protocol (rule frames) and encoded during training. bc-pixels reads the
# same frames stores (its train jobs wait for them: rules/train.smk).


rule frames:
    input:
        manifest=str(paths.dataset_dir() / paths.MANIFEST),
    output:
        card=str(paths.frames_dir("{suite}", "{env}", "{dataset}") / paths.FRAMES_CARD),
        manifest=str(paths.frames_dir("{suite}", "{env}", "{dataset}") / paths.MANIFEST),
    params:
        spec=frames_spec_json,
    log:
        "results/logs/frames/{suite}/{env}/{dataset}/{frames}.log",
    benchmark:
        "results/benchmarks/frames/{suite}/{env}/{dataset}/{frames}.tsv"
    wildcard_constraints:
        suite="mujoco",
        frames=r"mujoco-render-v[0-9]+-[0-9]+-[0-9a-f]{10}",
    resources:
        mem_mb=planned("frames", "mem_mb"),
        runtime=planned("frames", "runtime"),
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark frames --spec {params.spec:q} > {log} 2>&1"


rule features:
    input:
        manifest=str(paths.dataset_dir() / paths.MANIFEST),
        frames=frames_inputs,
    output:
        card=str(paths.features_dir("{suite}", "{env}", "{dataset}") / paths.FEATURES_CARD),
        manifest=str(paths.features_dir("{suite}", "{env}", "{dataset}") / paths.MANIFEST),
    params:
        spec=features_spec_json,
    log:
        "results/logs/features/{suite}/{env}/{dataset}/{features}.log",
    benchmark:
        "results/benchmarks/features/{suite}/{env}/{dataset}/{features}.tsv"
    wildcard_constraints:
        features=r"[a-z\-]+-[0-9a-f]{10}",
    threads: PRESET.torch_threads
    resources:
        mem_mb=planned("features", "mem_mb"),
        runtime=planned("features", "runtime"),
        **gpu_resources(),
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark features --spec {params.spec:q} --threads {threads} > {log} 2>&1"
