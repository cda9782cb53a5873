"""Baselines: one module per algorithm (`_d3rlpy` is the d3rlpy glue they share), declared here in
the suite's algorithm registry with their published hyperparameters (`hyperparameters.py`, light:
validating and planning a preset import no d3rlpy); a module is imported when a stage runs it.
"""

from baselines import hyperparameters
from benchmark.algorithms import ALGORITHMS, Declaration

ALGORITHMS.register(Declaration("bc", "baselines.bc:BehaviourCloning", hyperparameters.BC))
ALGORITHMS.register(Declaration("cql", "baselines.cql:ConservativeQLearning", hyperparameters.CQL))
ALGORITHMS.register(Declaration("dt", "baselines.dt:DecisionTransformer", hyperparameters.DT))
ALGORITHMS.register(
    Declaration(
        "bc-pixels",
        "baselines.bc_pixels:PixelBehaviourCloning",
        hyperparameters.BC_PIXELS,
        suites=("mujoco",),  # Atari's BC already reads the game's frames: `bc`
        frames=hyperparameters.frames_spec,
    )
)
