"""Strategy-proof families of facility rules, fitted on training profiles and rendered as code.

Modules: ``member`` (what every fitted member is: its locations, its code, its description),
``quantile`` (generalised medians with public weights and the families of their compositions),
``binned`` (what the anchored families share), ``anchored``, ``pair_anchored``, ``midpoint``,
and ``registry`` (the one list of families: what is fitted, in which order, for which seed set).
numpy only.
"""
