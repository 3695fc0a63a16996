"""Find the code and the idea in free-form model text (helpers of :mod:`amdlib.core.code`).

:func:`locate` splits the text into code chunks (fenced blocks, then the text
outside the fences) and parses each, salvaging what it can: leading prose is
skipped, and a trailing part is dropped when it is prose after the code or an
output cut off at the end.  :func:`thought_of` finds the one-line idea.
:func:`split_reasoning` sets a reasoning model's thinking aside first.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from amdlib.core.parsing import parse as parse_source

# A fenced block; an unclosed fence runs to the end (the output was cut off).
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)[^\n]*\n(.*?)(?:^[ \t]*(?:```|~~~)[^\n]*$|\Z)", re.S | re.M)
# Lines where code can start (after prose); also the test for "is there code at all".
_CODE_START = re.compile(r"^(?:async\s+def|def|import|from\s+[\w.]+\s+import|class|@\w)\b")
_CODE_LIKE = re.compile(r"^\s*(?:def\s+\w+\s*\(|import\s+\w|from\s+[\w.]+\s+import|return\b"
                        r"|\w+\s*=\s*lambda\b)", re.M)
_BLOCK_HEADER = re.compile(r"^\s*(?:class|def|async\s+def|if|elif|else|for|while|with|try|except"
                           r"|finally)\b.*:\s*(?:#.*)?$")
# Syntax errors that mean "the text stops in the middle of something".
_EOF_HINTS = ("was never closed", "unexpected EOF", "EOF while", "expected an indented block",
              "unterminated")
_MAX_THOUGHT = 240
# Reasoning blocks of thinking models (<think> is the common one; some use other tag names).
_REASONING_TAGS = ("think", "thinking", "reasoning", "thought")
_REASONING_BLOCK = re.compile(r"<(%s)>(.*?)(?:</\1>|\Z)" % "|".join(_REASONING_TAGS), re.S | re.I)
_REASONING_CLOSE = re.compile(r"</(?:%s)>" % "|".join(_REASONING_TAGS), re.I)


def split_reasoning(text: str) -> tuple[str, str]:
    """``(answer, reasoning)``: the text without its reasoning blocks, and those blocks' contents.

    ``<think>...</think>`` blocks (and ``<thinking>``, ``<reasoning>``,
    ``<thought>``) are removed; an unclosed one runs to the end (the answer was
    cut off while thinking: there is no answer). A closing tag without an
    opening one (servers that put ``<think>`` in the prompt) ends a reasoning
    part that starts the text.
    """
    text = text or ""
    close = _REASONING_CLOSE.search(text)
    if close is not None and not _REASONING_BLOCK.search(text[: close.start()]):
        lead, text = text[: close.start()], text[close.end():]
    else:
        lead = ""
    parts = [lead] if lead.strip() else []
    parts.extend(m.group(2) for m in _REASONING_BLOCK.finditer(text))
    answer = _REASONING_BLOCK.sub("\n", text)
    return answer.strip("\n"), "\n".join(p.strip() for p in parts if p.strip())


@dataclass
class Located:
    """Parsed code chunks in preference order, and the first chunk's syntax error.

    ``errors[i]`` is the syntax error whose tail was dropped to parse
    ``modules[i]`` (empty when it parsed whole).
    """

    modules: list[ast.Module] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reason: str = ""


def locate(text: str) -> Located:
    """Parse every plausible code chunk of ``text``.

    ``reason`` is set to ``"syntax error at line N: ..."`` when some code-like
    chunk could not be salvaged, or ``"no code found"`` when nothing looks
    like code; it is informative only when no chunk yields a usable function.
    """
    out = Located()
    fenced = [m.group(1) for m in _FENCE.finditer(text)]
    outside = _FENCE.sub("\n", text) if fenced else text
    chunks = [(c, True) for c in fenced] + [(outside, False)]
    chunks = [(textwrap.dedent(c.expandtabs(4)).rstrip(), f) for c, f in chunks if c.strip()]
    saw_code = False
    for chunk, is_fenced in chunks:
        if not is_fenced and not _CODE_LIKE.search(chunk):
            continue
        saw_code = True
        module, err, worst = _salvage(chunk)
        if module is not None and _has_function(module):
            out.modules.append(module)
            out.errors.append(err)
        if worst and not out.reason:
            out.reason = worst
    if not out.modules and not out.reason:
        out.reason = "no function definition" if saw_code else "no code found"
    return out


def _has_function(module: ast.Module) -> bool:
    return any(isinstance(n, ast.FunctionDef) or (isinstance(n, ast.Assign)
               and isinstance(n.value, ast.Lambda)) for n in module.body)


def _salvage(chunk: str) -> tuple[ast.Module | None, str, str]:
    """Parse ``chunk``, from its start or from a later line where code begins.

    Returns the first module defining a function (else None or a
    function-less module), the syntax error whose tail was dropped for it (or
    ``""``), and the syntax error of the attempt that got furthest (or ``""``).
    """
    lines = chunk.split("\n")
    starts = [0] + [i for i, line in enumerate(lines) if i and _CODE_START.match(line.lstrip())
                    and (line[:1].strip() or not _inside_block(lines, i))]
    first_err = ""
    parsed: ast.Module | None = None
    for start in starts:
        module, err = _parse_prefix(_block(lines, start))
        err = _shift(err, start) if err else ""
        if err and _line_of(err) > _line_of(first_err):  # the attempt that got furthest
            first_err = err
        if module is not None and _has_function(module):
            return module, err, first_err
        parsed = parsed or module
    return parsed, "", first_err


def _inside_block(lines: list[str], i: int) -> bool:
    """True when indented line ``i`` belongs to a Python block (a method, a nested def)."""
    above = [line for line in lines[:i] if line.strip()]
    return bool(above) and bool(_BLOCK_HEADER.match(above[-1])) or \
        any(_BLOCK_HEADER.match(line) and len(line) - len(line.lstrip()) <
            len(lines[i]) - len(lines[i].lstrip()) for line in above)


def _block(lines: list[str], start: int) -> list[str]:
    """Lines from ``start``; for an indented start (code inside prose), its dedented block."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    if indent == 0:
        return lines[start:]
    out = []
    for line in lines[start:]:
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            break
        out.append(line[indent:])
    return out


def _line_of(err: str) -> int:
    m = re.match(r"syntax error at line (\d+)", err)
    return int(m.group(1)) if m else 0


def _shift(err: str, by: int) -> str:
    """Re-number the line of an error found in a chunk that started ``by`` lines later."""
    m = re.match(r"syntax error at line (\d+): (.*)", err, re.S)
    return f"syntax error at line {int(m.group(1)) + by}: {m.group(2)}" if m else err


def _parse_prefix(lines: list[str]) -> tuple[ast.Module | None, str]:
    """Parse ``lines``; on error, the longest acceptable prefix that parses.

    A tail may be dropped when the error is an end-of-text one or lies in the
    last three non-blank lines (a cut-off answer), or, for an error elsewhere,
    only at a top-level line (prose after the code).  An error in the middle
    of an indented block is a real syntax error: nothing is dropped.
    """
    try:
        return parse_source("\n".join(lines)), ""
    except SyntaxError as exc:
        err = exc
    msg = f"syntax error at line {err.lineno}: {err.msg}"
    lineno = min(err.lineno or len(lines), len(lines))
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    near_end = any(h in err.msg for h in _EOF_HINTS) or (lineno - 1) in nonblank[-3:]
    cut = lineno - 1
    while cut > 0:
        if near_end:
            candidate = cut
        else:  # back up to the top-level line that starts the offending part
            candidate = max((i for i in range(cut + 1) if lines[i][:1].strip()), default=0)
            if candidate == 0:
                break
        try:
            return parse_source("\n".join(lines[:candidate])), msg
        except SyntaxError:
            cut = candidate - 1
    return None, msg


def thought_of(text: str) -> str:
    """The one-line idea: ``{...}`` text outside the code, else the first prose sentence.

    Prose is the text before the first code block or code line, then the
    text after it without fenced blocks and code-like lines.  A braced group
    after the code counts only if it has a few words (not LaTeX's ``{align*}``).
    """
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if _CODE_START.match(line.strip())
                  or _CODE_LIKE.match(line) or line.lstrip().startswith(("```", "~~~"))), len(lines))
    before = "\n".join(lines[:first])
    # Fences may be stray (a closing one after unfenced code): judge line by line instead.
    after = "\n".join(line for line in lines[first:] if line[:1].strip()
                      and not _CODE_START.match(line) and not _CODE_LIKE.match(line)
                      and not line.startswith(("```", "~~~", "#")) and _wordy(line))
    braced = _braced(before)
    if not braced:
        braced = _braced(after)
        braced = braced if len(braced.split()) >= 3 else ""
    if braced:
        return _one_line(braced)
    for prose in (before, after):
        sentence = _first_sentence(prose)
        if sentence:
            return sentence
    return ""


def _wordy(line: str) -> bool:
    """At least four plain words: prose, not a stray line of code or output."""
    return sum(bool(re.fullmatch(r"[A-Za-z'-]+[.,:;!?]?", w)) for w in line.split()) >= 4


def _braced(prose: str) -> str:
    """Content of the first balanced ``{...}`` group in ``prose`` (outermost)."""
    start = prose.find("{")
    while start >= 0:
        depth = 0
        for i in range(start, len(prose)):
            depth += {"{": 1, "}": -1}.get(prose[i], 0)
            if depth == 0:
                inner = prose[start + 1: i].strip()
                if inner:
                    return inner
                break
        start = prose.find("{", start + 1)
    return ""


def _one_line(s: str) -> str:
    s = " ".join(s.split())
    return s if len(s) <= _MAX_THOUGHT else s[: _MAX_THOUGHT - 3].rstrip() + "..."


def _first_sentence(prose: str) -> str:
    for line in prose.split("\n"):
        line = re.sub(r"^[\s#>*\-]+|\*\*|__|`", "", line).strip()
        if not line:
            continue
        m = re.match(r"(.+?[.!?:])(?:\s|$)", line)
        return _one_line(m.group(1) if m else line)
    return ""
