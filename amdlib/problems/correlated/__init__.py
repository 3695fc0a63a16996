"""Revenue with correlated bidders (experiment 3): two bidders on a value grid.

Modules: ``distribution`` (the joint law, virtual values), ``mechanism``
(threshold mechanisms and the fixing step), ``audit`` (exact regret and IR by
enumeration), ``optimum`` (the MILP), ``baselines``, ``harness`` (sandbox
side, numpy only), ``problem`` (the revenue problem), ``regretnet`` (PyTorch)
and ``nna`` (distilling the network into code). Nothing is imported here so
that the sandbox worker loading the harness stays light.
"""
