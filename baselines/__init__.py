"""Baselines: one module per algorithm (`_d3rlpy` is the d3rlpy glue they share), declared here in
the suite's algorithm registry with their published hyperparameters (`hyperparameters.py`) and
their costs (`cost.py`), both light: validating and planning a preset import no d3rlpy; a module
is imported when a stage runs it.
"""

from baselines import cost, hyperparameters
from benchmark.algorithms import ALGORITHMS, Declaration

ALGORITHMS.register(Declaration("bc", "baselines.bc:BehaviourCloning", hyperparameters.BC, cost=cost.bc))
ALGORITHMS.register(Declaration("cql", "baselines.cql:ConservativeQLearning", hyperparameters.CQL, cost=cost.cql))
ALGORITHMS.register(Declaration("dt", "baselines.dt:DecisionTransformer", hyperparameters.DT, cost=cost.dt))
ALGORITHMS.register(
    Declaration(
        "bc-pixels",
        "baselines.bc_pixels:PixelBehaviourCloning",
        hyperparameters.BC_PIXELS,
        suites=("mujoco",),  # Atari's BC already reads the game's frames: `bc`
        frames=hyperparameters.frames_spec,
        cost=cost.bc_pixels,
    )
)
