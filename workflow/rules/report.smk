# Tables and figures, from results/scores.csv alone.


rule report:
    input:
        str(paths.SCORES),
    output:
        table=str(paths.TABLES / "summary.md"),
        table_csv=str(paths.TABLES / "summary.csv"),
        figure=str(paths.FIGURES / "scores.png"),
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    shell:
        "python -m benchmark report > {log} 2>&1"
