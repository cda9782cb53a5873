# more3s-bench: datasets -> train -> evaluate -> score -> aggregate -> report.
# `snakemake --cores N all` runs the default preset; `--configfile config/<preset>.yaml` picks another.

# The default preset only when none is given: Snakemake would otherwise merge the two presets.
if not config:

    configfile: "config/config.yaml"


# A bad preset stops here, before the workdir is made or any job is planned, with one line naming
# the file (and line) or config key and exit status 2: the preset files read strictly, then the
# merged config, then the capacity plan's limits. The config gets the schema's defaults and the
# rules read the typed preset, PRESET. The process settings first, as every entry point's.
from benchmark import runtime

runtime.configure()

from benchmark import config as presets
from benchmark import plan as capacity

PRESET = presets.check_workflow_config(config, workflow.configfiles, capacity.check)


# Outputs (results/, resources/) are relative to the preset's workdir: the smoke preset writes
# under resources/smoke/ so that it never overwrites the default preset's results. Anchored at
# this file's folder: a cluster job's Snakemake starts inside the workdir and would nest it again.
workdir: os.path.join(workflow.basedir, PRESET.workdir)


# `snakemake --report results/report.html`: every figure and table captioned, with provenance.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/diagnose.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/plan.smk"


rule all:
    default_target: True
    input:
        rules.aggregate.output,
        rules.report.output,
