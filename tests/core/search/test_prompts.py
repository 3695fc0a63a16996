"""Prompt construction: EoH and FunSearch formats, strategy prompts."""

from __future__ import annotations

from amdlib.core.search import prompts
from amdlib.problems.toy import ToyProblem

from .helpers import program


def _parents():
    worse = program(1, -0.08, code="def fit(x):\n    return x\n", thought="identity")
    worse.evaluation.diagnostics = "largest error 0.5 at x=0.000"
    better = program(2, -0.01, code="def fit(x):\n    return 1.4 * x - 0.4\n")
    return worse, better


def test_eoh_messages_show_task_template_parents_and_instruction():
    toy = ToyProblem()
    worse, better = _parents()
    system, user = prompts.eoh_messages(toy, [better, worse], prompts.OPERATOR_INSTRUCTIONS["e2"])
    assert system["role"] == "system" and "numpy, math" in system["content"]
    text = user["content"]
    assert text.startswith(toy.task)
    assert "Template:" in text and "np.zeros_like(x)" in text
    assert text.index("Mechanism 1:") < text.index("1.4 * x - 0.4") < text.index("Mechanism 2:")
    assert "Idea: identity" in text and "Diagnostics: largest error 0.5 at x=0.000" in text
    assert "Fitness (higher is better): -0.01" in text
    assert "Instruction: " + prompts.OPERATOR_INSTRUCTIONS["e2"] in text
    assert "{like this}" in text and "`fit`" in text
    single = prompts.eoh_messages(toy, [worse], "Tune it.")[1]["content"]
    assert "Current mechanism:" in single and "Mechanism 1:" not in single


def test_invalid_parents_show_their_error():
    bad = program(3, None)
    assert "Fitness (higher is better): invalid (test: invalid)" in prompts.describe_program(bad, "P")


def test_funsearch_messages_version_the_parents_in_ascending_order():
    toy = ToyProblem()
    worse, better = _parents()
    user = prompts.funsearch_messages(toy, [worse, better])[1]["content"]
    assert user.index("def fit_v0(x):") < user.index("def fit_v1(x):") < user.index("def fit_v2(x: np.ndarray)")
    assert "# Version 0, fitness -0.08" in user and "Improved version of `fit_v1`" in user
    assert "Write `fit_v2`" in user and "name it `fit`" in user


def test_rename_function_touches_the_header_only():
    code = "def fit(x):\n    return fitness(x)\n"
    assert prompts.rename_function(code, "fit", "fit_v3") == "def fit_v3(x):\n    return fitness(x)\n"


def test_strategy_prompt_and_answer_cleaning():
    system, user = prompts.strategy_messages("modification", ["Tune constants.", "Remove dead code."])
    assert "1. Tune constants.\n2. Remove dead code." in user["content"]
    assert "modification instruction" in user["content"]
    assert prompts.clean_strategy_text('"Flip  the\nsign of one term."') == "Flip the sign of one term."
    assert prompts.clean_strategy_text("```python\nx = 1\n```") == ""
    assert len(prompts.clean_strategy_text("a" * 1000)) == 600


def test_example_prompt_and_one_fitness_sign_for_minimised_problems():
    from amdlib.problems.facility.problem import FacilityProblem

    toy = ToyProblem()
    parent = program(0, -0.25, "def fit(x):\n    return x\n", thought="Identity.")
    text = prompts.example_prompt(toy, [parent], "eoh")
    assert text.startswith("[system]\n") and "[user]\n" in text and toy.task in text
    assert "Fitness (higher is better): -0.25" in text
    assert "fit_v0" in prompts.example_prompt(toy, [parent], "funsearch")
    facility = FacilityProblem(n_train=20, n_test=20)
    shown = prompts.describe_program(program(0, -0.0797, "def mechanism(p):\n    return p\n"), "P", facility)
    assert "Fitness (lower is better): 0.0797" in shown and "higher" not in shown
    assert "lower is better" in facility.task  # the task and the parents use the same sign
    listed = prompts.strategy_messages("modification", [("Tune it.", -0.05), ("Prune it.", None)], facility)[1]
    assert facility.task.strip() in listed["content"]
    assert "Tune it. [fitness (lower is better) of its best mechanisms: 0.05]" in listed["content"]
    assert "Prune it. [no valid mechanism yet]" in listed["content"]
