"""MORE-3S (arXiv 2402.12845): multimodal offline RL with shared semantic spaces.

`model.py` is the method (fusion of the frozen encoder's outputs into one token per step, GPT-2
with the return-to-go in every layer's keys and values); `algorithm.py` registers it and its
ablations with the suite's algorithm registry (`more3s`, `more3s-<variant>`); `encoder.py`,
`regions.py`, `prompts.py` and `render.py` make its inputs; `features.py` stores or streams them.
"""
