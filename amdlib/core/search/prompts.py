"""Chat messages for LLM proposers (the offline proposer reads operator and parents instead).

EoH-style prompts show the task, the function template, the parent programs
(idea, code, fitness and the evaluator's diagnostics) and the operator's
instruction; FunSearch-style prompts show the parents as successive versions
``f_v0, f_v1, ...`` (ascending score) and ask for the next version. The answer
format is the same everywhere: a one-sentence idea in braces, then one Python
code block with one function.

Fitness is shown with one sign throughout, the problem's own: a problem whose
objective is minimised (facility location's social cost) sets ``fitness_sign =
-1`` and ``fitness_label`` so that the model sees the cost it is told to lower,
not the engine's internal "higher is better" score.
"""

from __future__ import annotations

import ast
import copy
import math
import re
from typing import Sequence

from amdlib.core.problem import Problem
from amdlib.core.program import Program
from amdlib.core.parsing import parse as parse_source

#: What each EoH operator asks for (LLMMech's exploration and modification prompts follow EoH).
OPERATOR_INSTRUCTIONS: dict[str, str] = {
    "i1": "Design a new mechanism from scratch that solves the task well.",
    "e1": "Design a new mechanism whose idea is as different as possible from the mechanisms shown.",
    "e2": "Find the common idea behind the mechanisms shown, then design a new mechanism "
          "that builds on that idea but is not a copy of any of them.",
    "m1": "Modify the mechanism shown to improve its fitness: change its logic where the "
          "diagnostics say it is weak, and remove redundant parts.",
    "m2": "Keep the structure of the mechanism shown but change its parameters and constants "
          "to improve its fitness.",
    "random": "Write an improved version of the function shown.",
}

#: Which operators explore (crossover-like, several parents) and which modify one parent.
EXPLORATION = ("e1", "e2")
MODIFICATION = ("m1", "m2")

_ANSWER_FORMAT = (
    "Answer with a one-sentence description of your idea inside braces {like this}, "
    "then the complete function in a single ```python code block. Keep the signature "
    "and the function name `{name}`. Allowed imports: {modules}. No other text."
)


def system_message(problem: Problem) -> dict[str, str]:
    """The system message: the model writes one Python mechanism function per reply."""
    return {
        "role": "system",
        "content": (
            "You are an expert in mechanism design and Python. You write mechanisms as "
            "short, vectorised Python functions that are evaluated automatically. "
            "Reply with exactly one function; it must be deterministic, fast, and use "
            f"only these modules: {', '.join(problem.function.allowed_modules)}."
        ),
    }


def _answer_format(problem: Problem) -> str:
    return (_ANSWER_FORMAT.replace("{name}", problem.function.name)
            .replace("{modules}", ", ".join(problem.function.allowed_modules)))


DEFAULT_FITNESS_LABEL = Problem.fitness_label


def fitness_label(problem: Problem | None) -> str:
    """How the prompt names the fitness (with its direction)."""
    return DEFAULT_FITNESS_LABEL if problem is None else problem.fitness_label


def shown_fitness(problem: Problem | None, score: float | None) -> float | None:
    """A score in the sign the prompt uses (the problem's ``fitness_sign``, default +1)."""
    if score is None or not math.isfinite(score):
        return None
    return (1.0 if problem is None else float(problem.fitness_sign)) * score


def _fitness(program: Program, problem: Problem | None = None) -> str:
    value = shown_fitness(problem, program.score) if program.valid else None
    if value is not None:
        return f"{value:.6g}"
    return f"invalid ({program.evaluation.error or 'no score'})"


def describe_program(program: Program, label: str, problem: Problem | None = None) -> str:
    """A parent as shown to the model: idea, code, fitness, diagnostics."""
    lines = [f"{label}:"]
    if program.thought:
        lines.append(f"Idea: {program.thought}")
    lines.append(f"```python\n{program.code.strip()}\n```")
    lines.append(f"{fitness_label(problem)}: {_fitness(program, problem)}")
    if program.evaluation.diagnostics:
        lines.append(f"Diagnostics: {program.evaluation.diagnostics}")
    return "\n".join(lines)


def eoh_messages(problem: Problem, parents: Sequence[Program], instruction: str) -> list[dict[str, str]]:
    """An EoH prompt: task, template, parents (if any), the instruction, the answer format."""
    parts = [problem.task.strip(), f"Template:\n```python\n{problem.function.template.strip()}\n```"]
    if len(parents) == 1:
        parts.append(describe_program(parents[0], "Current mechanism", problem))
    else:
        parts.extend(describe_program(p, f"Mechanism {i + 1}", problem) for i, p in enumerate(parents))
    parts.append(f"Instruction: {instruction.strip()}")
    parts.append(_answer_format(problem))
    return [system_message(problem), {"role": "user", "content": "\n\n".join(parts)}]


_DEF_RE = r"(\bdef\s+){name}(\s*\()"


def rename_function(code: str, old: str, new: str) -> str:
    """Rename the definition ``def old(`` to ``def new(`` (the header only)."""
    return re.sub(_DEF_RE.format(name=re.escape(old)), rf"\g<1>{new}\g<2>", code, count=1)


def _signature(template: str, name: str, new: str) -> str:
    """The template's ``def`` line of ``name`` (signature only), renamed to ``new``."""
    try:
        tree = parse_source(template)
    except SyntaxError:
        return f"def {new}(...):"
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            stub = copy.copy(node)
            stub.name, stub.body, stub.decorator_list = new, [ast.Pass()], []
            return ast.unparse(stub).rsplit("\n", 1)[0]
    return f"def {new}(...):"


def funsearch_messages(problem: Problem, parents: Sequence[Program]) -> list[dict[str, str]]:
    """A FunSearch best-shot prompt: parents as ``f_v0, f_v1, ...`` (ascending score), then ``f_vK``.

    ``parents`` must already be sorted by ascending score. The reply is asked
    for under the original function name so that it can be evaluated as is.
    """
    name = problem.function.name
    blocks = []
    for i, parent in enumerate(parents):
        label = fitness_label(problem)
        short = "fitness" if label == DEFAULT_FITNESS_LABEL else label.lower()
        header = f"# Version {i}, {short} {_fitness(parent, problem)}"
        if parent.evaluation.diagnostics:
            header += f"\n# Diagnostics: {parent.evaluation.diagnostics}"
        blocks.append(f"{header}\n{rename_function(parent.code.strip(), name, f'{name}_v{i}')}")
    k = len(parents)
    previous = f"{name}_v{k - 1}" if k else name
    blocks.append(f"{_signature(problem.function.template, name, f'{name}_v{k}')}\n"
                  f"    \"\"\"Improved version of `{previous}`.\"\"\"")
    user = "\n\n".join([
        problem.task.strip(),
        f"Template:\n```python\n{problem.function.template.strip()}\n```",
        "Previous versions of the function, from worst to best:",
        "```python\n" + "\n\n\n".join(blocks) + "\n```",
        f"Write `{name}_v{k}`, a better version than all of them, but name it `{name}` and keep "
        "the template's signature.",
        _answer_format(problem),
    ])
    return [system_message(problem), {"role": "user", "content": user}]


def strategy_messages(kind: str, strategies: Sequence[str | tuple[str, float | None]],
                      problem: Problem | None = None) -> list[dict[str, str]]:
    """Ask for a new prompt strategy of ``kind`` ("exploration" or "modification"), unlike the others.

    ``strategies`` are the instructions so far, each optionally with its fitness
    (the mean score of the best 3 mechanisms it produced; None: none valid yet).
    With ``problem`` the prompt states the task, so the new instruction can be specific.
    """
    lines = []
    for i, item in enumerate(strategies):
        text, score = (item, None) if isinstance(item, str) else item
        line = f"{i + 1}. {text.strip()}"
        if not isinstance(item, str):
            value = shown_fitness(problem, score)
            line += (f" [{fitness_label(problem).lower()} of its best mechanisms: {value:.6g}]" if value is not None
                     else " [no valid mechanism yet]")
        lines.append(line)
    listed = "\n".join(lines)
    what = ("how to combine several parent mechanisms into a new one" if kind == "exploration"
            else "how to change one parent mechanism to improve it")
    task = f"The task the mechanisms solve:\n{problem.task.strip()}\n\n" if problem is not None else ""
    user = (
        f"{task}An evolutionary search uses {kind} instructions that tell a model {what}. "
        f"The instructions used so far:\n{listed}\n\n"
        f"Write one new {kind} instruction that is as different from these as possible while "
        "still useful. Reply with the instruction only: one or two sentences, no code."
    )
    return [{"role": "system", "content": "You design instructions for an evolutionary program search."},
            {"role": "user", "content": user}]


def clean_strategy_text(text: str, limit: int = 600) -> str:
    """A model's strategy answer as a one-paragraph instruction (reasoning blocks, code fences
    and quotes removed)."""
    from amdlib.core.code_locate import split_reasoning

    text = split_reasoning(text)[0]
    text = re.sub(r"```.*?(```|$)", " ", text, flags=re.S)
    text = " ".join(text.split()).strip().strip('"').strip()
    return text[:limit]


def example_prompt(problem: Problem, parents: Sequence[Program], method: str = "eoh") -> str:
    """One full prompt as a model receives it (system and user message), for notebooks to show.

    ``parents`` are programs of a finished search, e.g. ``result.history[:1]`` (the seed);
    ``method`` picks FunSearch's versioned prompt or EoH's m1 (modify one parent) prompt.
    """
    if method == "funsearch":
        messages = funsearch_messages(problem, sorted(parents, key=lambda p: p.score))
    else:
        messages = eoh_messages(problem, list(parents)[:1], OPERATOR_INSTRUCTIONS["m1"])
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)
