"""Weighted multi-facility location on [0, 1] (LLMMech, experiment 4).

Modules: ``data`` (peak distributions, weight sets, profiles with misreports),
``costs`` (social cost and regret from mechanism outputs), ``baselines``
(percentile, dictatorial, constant, exact non-SP optimum), ``neural``
(MoulinNet, RegretNet; imports torch), ``audit`` (dense-grid SP audit),
``problem`` (the Problem subclass and its sandbox harness).

This package file imports nothing so that the sandbox harness stays numpy-only.
"""
