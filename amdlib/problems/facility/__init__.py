"""Weighted multi-facility location on [0, 1] (LLMMech, experiment 4).

Modules: ``data`` (peak distributions, weight sets, profiles with misreports),
``costs`` (social cost and regret from mechanism outputs: the one cost function),
``harness`` (the sandbox side; numpy only), ``evaluation`` (outputs to an Evaluation),
``problem`` (the Problem subclass), ``baselines`` (percentile, dictatorial, constant,
exact non-SP optimum), ``sp/`` (the strategy-proof families the search is seeded from, and
their one registry), ``audit`` (dense-grid SP audit), ``verdicts`` (paired comparisons on
fresh profiles, through the Evaluator), ``neural`` (MoulinNet, RegretNet; imports torch)
and ``epsilon`` (epsilon from the trained RegretNet).

This package file imports nothing so that the sandbox harness stays numpy-only.
"""
