"""Shared library of the more3s-bench suite: configs, environments, datasets, evaluation, scores.

Importing it sets nothing: entry points call `benchmark.runtime.configure()` first.
"""
