"""MORE-3S (arXiv 2402.12845): multimodal offline RL with shared semantic spaces.

`model.py` is the method (fusion of the frozen encoder's outputs into one token per step, GPT-2
with the return-to-go in every layer's keys and values); `algorithm.py` trains and evaluates it
and its ablations, declared here in the suite's algorithm registry (`more3s`, `more3s-<variant>`)
with their hyperparameters (`hyperparameters.py`) and their cost (`cost.py`), both light:
validating and planning a preset import no torch; `encoder.py`, `regions.py`, `prompts.py` and
`render.py` make its inputs; `features.py` stores or streams them, as `specs.py` names them.
"""

from benchmark.algorithms import ALGORITHMS, Declaration
from more3s import hyperparameters

for _name, _variant in {"more3s": {}, **hyperparameters.ABLATIONS}.items():
    ALGORITHMS.register(
        Declaration(
            _name,
            "more3s.algorithm:More3SAlgorithm",
            hyperparameters.published(_variant),
            variant=_variant,
            features=hyperparameters.features_spec,
            cost=hyperparameters.cost,
        )
    )
