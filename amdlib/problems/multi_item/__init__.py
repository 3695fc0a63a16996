"""One bidder, two items, additive values: menus, the taxation-principle fix, baselines, RochetNet.

Modules: ``distributions`` (the value law), ``menu`` (the fixing step: the menu a
candidate induces and the bidder's choice from it), ``problem`` (the Problem on the
engine's contract), ``harness`` (sandbox side), ``baselines`` (Manelli-Vincent,
bundling, separate sales, the best two-price menu), ``audit`` (SP/IR audit on a
dense misreport grid), ``rochetnet`` (a learned menu in torch).
"""
