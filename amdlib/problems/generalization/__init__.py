"""Experiment 5's problem: Experiment 4's facility problem at any n.

Builds on :mod:`amdlib.problems.facility` (same profiles, harness, scorer, audit; the
facility harness builds deviation profiles in blocks, so n = 200 fits in a sandbox
worker). Modules: ``optimum`` (exact DPs: best percentile rule and non-SP optimum at any
n) and ``problem`` (the facility problem at any n, percentile rule by DP). The experiment
(where mechanisms come from, the OOD and larger-n studies, the paper's tables) is
:mod:`amdlib.experiments.generalization`.
"""
