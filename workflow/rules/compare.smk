# Did it reproduce? `python -m benchmark compare` (benchmark/report/compare.py) from committed
# results alone, so it runs on a fresh clone; like `figures`, no input file is named (no upstream
# job is planned), and `-f` rebuilds tables that are already there:
# - `snakemake --cores 1 -f results/comparison-published/compare.md`: this preset's results/
#   against the published numbers;
# - `snakemake --cores 1 -f <rerun>/comparison/compare.md`: a rerun kept in a folder inside the
#   results it reran (results/rerun-948df28, results/atari-imitation/first-run-076d62d) against
#   those results (its parent folder).
from benchmark.report import compare as comparison


rule compare_published:
    output:
        comparison.outputs("results/comparison-published", against_published=True),
    params:
        published=comparison.PUBLISHED,
        reps=PRESET.report.bootstrap_reps,
        seed=PRESET.report.seed,
    log:
        "results/comparison-published/compare.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark compare results {params.published} --out results/comparison-published"
        " --bootstrap-reps {params.reps} --seed {params.seed} > {log} 2>&1"


rule compare_rerun:
    output:
        comparison.outputs("{rerun}/comparison", against_published=False),
    params:
        reps=PRESET.report.bootstrap_reps,
        seed=PRESET.report.seed,
        parent=lambda wildcards: os.path.dirname(wildcards.rerun),
    wildcard_constraints:
        rerun=r"results/[A-Za-z0-9_.\-/]+",
    log:
        "{rerun}/comparison/compare.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark compare {wildcards.rerun:q} {params.parent:q} --out {wildcards.rerun:q}/comparison"
        " --bootstrap-reps {params.reps} --seed {params.seed} > {log} 2>&1"
