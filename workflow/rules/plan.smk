# `snakemake --cores 1 plan`: the preset's capacity plan (benchmark/plan.py) beside its results:
# jobs, CPU and GPU hours, peak memory and disk per stage, before anything heavy runs. The rules'
# mem_mb and runtime come from the same plan (common.smk: planned).


rule plan:
    output:
        "results/plan.md",
    params:
        preset=json.dumps(config, separators=(",", ":")),
    log:
        "results/logs/plan.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark plan --config {params.preset:q} --out {output:q} > {log} 2>&1"
