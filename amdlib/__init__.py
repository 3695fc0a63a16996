"""amdlib: LLM-driven automated mechanism design, reproducibly.

Mechanisms are written as Python functions by a proposer (an LLM or the offline
AST mutator), passed through a problem-specific fixing step that enforces the
design criteria (strategy-proofness, IR, budget balance), and scored by Monte
Carlo or exact evaluation. Experiments live in ``notebooks/`` and call this library.
"""

__version__ = "0.1.0"
