# more3s-bench: datasets -> train -> evaluate -> score -> aggregate -> report.
# `snakemake --cores N all` runs the default preset; `--configfile config/<preset>.yaml` picks another.

# The default preset only when none is given: Snakemake would otherwise merge the two presets.
if not config:

    configfile: "config/config.yaml"


# Outputs (results/, resources/) are relative to the preset's workdir: the smoke preset writes
# under resources/smoke/ so that it never overwrites the default preset's results. Anchored at
# this file's folder: a cluster job's Snakemake starts inside the workdir and would nest it again.
workdir: os.path.join(workflow.basedir, config.get("workdir", "."))


# `snakemake --report results/report.html`: every figure and table captioned, with provenance.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.aggregate.output,
        rules.report.output,
