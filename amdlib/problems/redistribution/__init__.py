"""VCG redistribution (experiment 2): evolve a rebate of the others' bids; a worst-case scaling fix keeps it
SP, IR and non-deficit.

Modules: ``model`` (setting, own-bid path index), ``fix``, ``convexity`` (the fix's exactness screen),
``harness`` (sandboxed), ``problem``, ``baselines`` (BC, WCO, OEL), ``neural`` (input-convex network),
``nna`` (distillation), ``evaluation`` (audits, worst case), ``stats``. What the notebook calls is the
experiment's own package, :mod:`amdlib.experiments.redistribution`. Nothing is imported here: the sandboxed harness must stay numpy-only.
"""
