"""Experiment 5: learned facility-location mechanisms out of distribution and at larger n.

Builds on :mod:`amdlib.problems.facility` (same profiles, harness, scorer, audit; the
facility harness builds deviation profiles in blocks, so n = 200 fits in a sandbox
worker). Modules: ``optimum`` (exact DPs: best percentile rule and non-SP optimum at any
n), ``problem`` (the facility problem at any n, percentile rule by DP), ``sources``
(learned mechanisms from Experiment 4 runs, or a small search here), ``study`` (the OOD,
larger-n and scaling evaluations), ``paper`` (the paper's tables beside ours).
"""
