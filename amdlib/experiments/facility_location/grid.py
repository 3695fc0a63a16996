"""Paper Table 1's grid and its matched-regret columns: a leaf module (no imports), so that the
params check and the Table-1 view share one definition."""

from __future__ import annotations

TABLE1_N = (5, 10)
TABLE1_K = (1, 2, 3, 4)
TABLE1_DISTRIBUTIONS = ("uniform", "normal", "beta1", "beta2")
#: Table 1's grid, (n, K, distribution) in the paper's order (32 settings, fixed weights).
TABLE1_GRID = tuple((n, k, d) for n in TABLE1_N for k in TABLE1_K for d in TABLE1_DISTRIBUTIONS)
#: The matched-regret epsilon sources -> the Table-1 metric holding the printed regret.
PAPER_EPSILON = {"paper-llmmech": "llmmech_regret", "paper-llmmech-e": "llmmech_e_regret"}

__all__ = ["TABLE1_N", "TABLE1_K", "TABLE1_DISTRIBUTIONS", "TABLE1_GRID", "PAPER_EPSILON"]
