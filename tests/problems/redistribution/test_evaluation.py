"""Evolved code as a mechanism: chunks run through the Evaluator give what the trusted rule gives."""

import numpy as np

from amdlib.core.evaluator import Evaluator
from amdlib.core.sandbox import Sandbox
from amdlib.problems.redistribution import baselines as lin
from amdlib.problems.redistribution.evaluation import code_mechanism, rule_mechanism
from amdlib.problems.redistribution.model import sample_profiles
from amdlib.problems.redistribution.problem import RedistributionProblem

BC_CODE = "import numpy as np\n\ndef rebate(others, n, m):\n    return m / n * others[:, m]\n"


def test_code_mechanism_matches_the_trusted_rule_across_chunks(monkeypatch):
    from amdlib.problems.redistribution import evaluation

    monkeypatch.setattr(evaluation, "chunk_size", lambda n: 7)  # several sandbox jobs for 20 profiles
    problem = RedistributionProblem(4, 2, n_search=200, n_holdout=1000)
    profiles = sample_profiles(np.random.default_rng(3), 20, 4)
    with Sandbox(workers=2, memory_mb=problem.memory_mb) as sandbox:
        ours = code_mechanism(Evaluator(problem, sandbox), BC_CODE)(profiles)
    trusted = rule_mechanism(lin.linear_rebate(lin.bailey_cavallo(4, 2)), 4, 2)(profiles)
    assert set(ours) == set(trusted)
    for key in trusted:
        np.testing.assert_allclose(ours[key], trusted[key], rtol=1e-12, atol=1e-12)
