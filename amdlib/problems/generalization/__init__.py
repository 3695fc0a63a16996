"""Experiment 5: learned facility-location mechanisms out of distribution and at larger n.

Builds on :mod:`amdlib.problems.facility` (same profiles, harness conventions, scorer,
audit). Modules: ``harness`` (the facility harness run in profile chunks, so n = 200 fits
in a sandbox worker), ``optimum`` (exact DPs: best percentile rule and non-SP optimum at
any n), ``problem`` (the facility problem at any n with the chunked harness), ``sources``
(learned mechanisms from Experiment 4 runs, or a small search here), ``study`` (the OOD,
larger-n and scaling evaluations), ``paper`` (the paper's tables beside ours).

This package file imports nothing so that the sandbox harness stays numpy-only.
"""
