"""Strategy mechanics with a fake evaluation (no sandbox, no proposer)."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.core.search.base import rank_select, request_seed, sort_key
from amdlib.core.search.eoh import EoH
from amdlib.core.search.eoh_e import EoHE
from amdlib.core.search.funsearch import FunSearch, dense_rank01, softmax
from amdlib.core.search.random_search import RandomSearch
from amdlib.problems.toy import ToyProblem

from .helpers import best_score, drive, improving_score, program


@pytest.fixture(scope="module")
def toy() -> ToyProblem:
    return ToyProblem()


def test_request_seed_is_stable_and_distinct():
    assert request_seed(0, 5) == request_seed(0, 5)
    seeds = {request_seed(s, i) for s in range(3) for i in range(200)}
    assert len(seeds) == 600
    assert all(0 <= s < 2**31 for s in seeds)


def test_rank_select_follows_inverse_rank_weights():
    rng = np.random.default_rng(0)
    items = list(range(4))
    counts = np.zeros(4)
    for _ in range(6000):
        counts[rank_select(rng, items, 1)[0]] += 1
    expected = 1 / (np.arange(4) + 4)
    np.testing.assert_allclose(counts / counts.sum(), expected / expected.sum(), atol=0.02)
    pair = rank_select(rng, items, 2)
    assert len(set(pair)) == 2
    assert rank_select(rng, [7], 2) == [7, 7]


def test_sort_key_prefers_higher_score_then_earlier_id():
    a, b, c, d = program(1, 0.5), program(2, 0.7), program(3, 0.7), program(4, None)
    assert sorted([a, b, c, d], key=sort_key) == [b, c, a, d]


def test_eoh_runs_i1_then_e1_e2_m1_m2_with_parent_counts(toy):
    eoh = EoH(toy, seed=0, pop_size=4, max_evaluations=100)
    history = drive(eoh, 4 + 16 * 2, improving_score())
    ops = [p.operator for p in history[1:]]
    assert ops == ["i1"] * 4 + (["e1"] * 4 + ["e2"] * 4 + ["m1"] * 4 + ["m2"] * 4) * 2
    by_op = {p.operator: len(p.parents) for p in history[1:]}
    assert by_op == {"i1": 0, "e1": 2, "e2": 2, "m1": 1, "m2": 1}
    assert [p.generation for p in history[1:5]] == [0] * 4 and history[-1].generation == 2
    # the population is the best pop_size valid programs seen, best first
    valid = sorted((p for p in history if p.valid), key=sort_key)
    assert [p.id for p in eoh.ranked()] == [p.id for p in valid[:4]]
    assert [g["generation"] for g in eoh.stats()["generations"]] == [0, 1, 2]


def test_eoh_truncates_the_last_operator_to_the_budget(toy):
    eoh = EoH(toy, seed=0, pop_size=4)
    history = drive(eoh, 10, improving_score())
    assert len(history) - 1 == 10
    assert [p.operator for p in history[5:]] == ["e1"] * 4 + ["e2"] * 2


def test_eoh_improves_and_is_deterministic(toy):
    runs = [drive(EoH(toy, seed=3, pop_size=6), 150, improving_score(1)) for _ in range(2)]
    assert [p.parents for p in runs[0]] == [p.parents for p in runs[1]]
    assert best_score(runs[0]) > -1.0 + 0.3


def test_random_search_always_shows_the_seed(toy):
    rs = RandomSearch(toy, seed=0, batch_size=5)
    history = drive(rs, 12, improving_score())
    assert len(history) == 13
    assert all(p.operator == "random" and p.parents == (0,) for p in history[1:])
    assert rs.best is not None and rs.best.score == best_score(history)


def test_softmax_and_ranks():
    np.testing.assert_allclose(softmax(np.array([0.0, 0.0]), 0.1), [0.5, 0.5])
    p = softmax(np.array([0.0, 1.0]), 0.1)
    assert p[1] / p[0] == pytest.approx(np.exp(10))
    np.testing.assert_allclose(dense_rank01(np.array([3.0, -1.0, 3.0, 0.5])), [1.0, 0.0, 1.0, 0.5])
    np.testing.assert_allclose(dense_rank01(np.array([2.0, 2.0])), [0.0, 0.0])


def test_funsearch_prompt_parents_ascending_and_islands_seeded(toy):
    fs = FunSearch(toy, seed=0, islands=3, batch_size=4, max_evaluations=40, reset_every=1000)
    history = drive(fs, 40, improving_score())
    assert all(p.operator == "funsearch" for p in history[1:])
    for p in history[1:]:
        scores = [history[q].score for q in p.parents]
        assert scores == sorted(scores) and 1 <= len(scores) <= 2
    assert sum(isl.num_programs for isl in fs.islands) == 3 + sum(1 for p in history[1:] if p.valid)
    assert fs.temperature(fs.islands[0]) == pytest.approx(0.1 * (1 - fs.islands[0].num_programs / 30000))


def test_funsearch_reset_reseeds_the_weaker_half_from_survivors(toy):
    fs = FunSearch(toy, seed=1, islands=4, batch_size=8, reset_every=1000)
    fs.initialize(program(0, -1.0))
    for i, score in enumerate([0.1, 0.4, 0.2, 0.3]):
        fs.islands[i].register(program(10 + i, score), (score,))
    fs.reset_islands()
    best = sorted(isl.best.id for isl in fs.islands)
    # islands 0 and 2 (bests 0.1, 0.2) were reset with the best of island 1 or 3
    assert fs.islands[1].best.id == 11 and fs.islands[3].best.id == 13
    assert {fs.islands[0].best.id, fs.islands[2].best.id} <= {11, 13}
    assert fs.islands[0].num_programs == 1 and len(best) == 4
    assert [r["island"] for r in fs.reset_log[0]["reset"]] == [0, 2]


def test_funsearch_resets_every_n_samples(toy):
    fs = FunSearch(toy, seed=0, islands=4, batch_size=5, reset_every=10)
    drive(fs, 35, improving_score())
    assert [r["after_samples"] for r in fs.reset_log] == [10, 20, 30]


def test_eoh_e_recombines_strategies_on_stagnation_offline(toy):
    ee = EoHE(toy, seed=0, pop_size=3)
    # every offspring invalid: the top 3 never change, so stagnation comes after 3 generations
    history = drive(ee, 3 + 12 * 5, lambda req: None, seed_score=-1.0)
    events = ee.stats()["strategy_events"]
    assert [e["event"] for e in events][:3] == ["stagnation", "created", "created"]
    created = [s for s in ee.strategies if s.origin == "recombined"]
    assert {s.kind for s in created} == {"exploration", "modification"}
    # their offspring were all invalid: rejected
    assert all(s.status == "rejected" for s in created)
    assert any(e["event"] == "rejected" for e in events)
    ops = {p.operator for p in history if p.generation == 4}
    assert ops <= {"e1", "e2", "m1", "m2"}


def test_eoh_e_admits_a_strategy_with_a_valid_offspring_and_bounds_the_population(toy):
    ee = EoHE(toy, seed=0, pop_size=3, prompt_pop_size=2)
    ee.initialize(program(0, -1.0))
    trial = ee._recombine("modification")
    assert trial is not None and trial.status == "trial"
    trial.scores.append(-0.5)  # as _finish_step records it
    assert ee.conclude_trial(trial, [program(5, None), program(6, -0.5)]) is True
    assert trial.status == "active"
    # three modification strategies (m1, m2 without valid offspring, the trial), room for 2: m2 goes
    assert {s.id for s in ee.active("modification")} == {trial.id, 2}
    assert [s.id for s in ee.strategies if s.status == "evicted"] == [3]
    other = ee._recombine("exploration")
    assert ee.conclude_trial(other, [program(7, None)]) is False and other.status == "rejected"


def test_eoh_e_strategy_fitness_is_mean_of_top3(toy):
    ee = EoHE(toy, seed=0)
    s = ee.strategies[0]
    assert s.fitness is None
    s.scores.extend([0.1, 0.5, 0.3, 0.4])
    assert s.fitness == pytest.approx(0.4)


def test_eoh_e_asks_a_prose_proposer_for_strategies(toy):
    ee = EoHE(toy, seed=0, pop_size=2)
    ee.proposer_writes_prose = True
    ee.initialize(program(0, -1.0))
    ee._pending_kinds = ["exploration", "modification"]
    reqs = ee.ask_texts()
    assert [r.operator for r in reqs] == ["strategy", "strategy"]
    assert "exploration" in reqs[0].messages[-1]["content"]
    ee.tell_texts(reqs, ["Swap the roles of the parents' branches.", "```python\n```"])
    llm = [s for s in ee.strategies if s.origin == "llm"]
    assert len(llm) == 1 and llm[0].text == "Swap the roles of the parents' branches."
    # an unusable answer falls back to a recombined strategy
    assert any(s.origin == "recombined" and s.kind == "modification" for s in ee.strategies)
    assert ee.ask_texts() == []
