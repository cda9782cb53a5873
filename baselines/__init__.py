"""Baselines: one module per algorithm, each registering itself with `@register("name")`.

Modules whose name starts with `_` are helpers, not algorithms.
"""
