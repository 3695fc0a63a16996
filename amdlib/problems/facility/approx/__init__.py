"""Facility rules that are not strategy-proof but whose regret is small and measured: families fitted
under the constraint "dense-audit regret <= epsilon" on the training profiles.

Modules: ``audit`` (the dense audit on a cached set of deviation profiles, with a per-agent standard
error), ``member`` (what an approximate fit is), ``kmedian`` (the exact weighted k-median as a member),
``groups`` (the paper's Figure 2 rule: weighted medians of rank groups), ``counted`` (the anchored rule
whose bins also count the reports below the anchor), ``switch`` (a member and the k-median, switched
by a capped vote of the agents' gains), ``fit`` (every family under one epsilon; the strategy-proof
member at epsilon 0). numpy only.
"""
