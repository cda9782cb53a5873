"""MORE-3S (arXiv 2402.12845): multimodal offline RL with shared semantic spaces.

Not implemented yet (issue 4): no algorithm is registered from this package, so presets cannot
name it. The registry scans this package like `baselines/`.
"""
