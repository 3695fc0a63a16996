"""Single-item revenue, rediscovering Myerson's virtual valuation (experiment 1): the value laws, the
priority auction and its fixing step, Myerson's solution, the harness and the problem. What the notebook calls
is the experiment's own package, :mod:`amdlib.experiments.virtual_valuation`."""
