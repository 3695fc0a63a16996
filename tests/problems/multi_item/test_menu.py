"""The fixing step: the induced menu is SP and IR for any candidate outputs (taxation principle)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from amdlib.problems.multi_item.menu import distinct_entries, from_entries, induced_menu, usage

GRID = 6  # a 6 x 6 grid of candidate outputs: 36 arbitrary entries
floats = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
outputs = st.tuples(*(arrays(np.float64, GRID * GRID, elements=floats) for _ in range(3)))
types = arrays(np.float64, (2, 64), elements=st.floats(0.0, 1.0, allow_nan=False))


def utility(menu, k, v1, v2):
    return v1 * menu.x1[k] + v2 * menu.x2[k] - menu.p[k]


@given(outputs, types, types)
def test_no_misreport_beats_truth_and_utility_is_never_negative(out, truth, lie):
    """For arbitrary (even nonsensical) candidate outputs: truthful >= any misreport, and IR."""
    menu = induced_menu(*out)
    v1, v2 = truth
    honest = utility(menu, menu.choose(v1, v2), v1, v2)
    liar = utility(menu, menu.choose(lie[0], lie[1]), v1, v2)  # true values v, report the lie
    assert np.all(honest >= liar)
    assert np.all(honest >= 0.0)
    # and truthful is the best entry of the whole menu, not only among reached ones
    assert np.all(honest >= menu.utilities(v1, v2).max(axis=1))


@given(outputs)
def test_menu_is_feasible_with_the_null_entry_first(out):
    menu = induced_menu(*out)
    assert menu.x1[0] == 0.0 and menu.x2[0] == 0.0 and menu.p[0] <= 0.0
    assert np.all((menu.x1 >= 0) & (menu.x1 <= 1) & (menu.x2 >= 0) & (menu.x2 <= 1))
    pairs = set(zip(menu.x1.tolist(), menu.x2.tolist()))
    assert len(pairs) == len(menu)  # one price per allocation


def test_each_allocation_keeps_its_lowest_price_and_allocations_are_clipped():
    menu = distinct_entries(np.array([1.0, 1.0, 1.7, 0.0]), np.array([0.0, 0.0, -0.2, 1.0]),
                            np.array([0.9, 0.6, 0.7, 0.4]))
    entries = dict(((a, b), c) for a, b, c in menu.entries())
    assert entries == {(1.0, 0.0): 0.6, (0.0, 1.0): 0.4}


def test_ties_go_to_the_higher_price():
    # at v = (0.5, 0.5) the bundle at 1.0 and nothing at 0 both give utility 0
    menu = from_entries([(1.0, 1.0, 1.0)])
    assert menu.p[menu.choose(np.array([0.5]), np.array([0.5]))[0]] == 1.0


def test_choice_is_the_same_in_chunks():
    rng = np.random.default_rng(0)
    menu = induced_menu(rng.uniform(size=3000), rng.uniform(size=3000), rng.uniform(size=3000))
    v1, v2 = rng.uniform(size=(2, 2500))
    whole = np.argmax(menu.utilities(v1, v2), axis=1)
    chosen = menu.choose(v1, v2)
    # same utility as the plain argmax (the chunked tie rule may only pick an equal-utility entry)
    assert np.array_equal(utility(menu, chosen, v1, v2), utility(menu, whole, v1, v2))


def test_usage_counts_types_and_revenue():
    menu = from_entries([(1.0, 0.0, 0.5), (0.0, 1.0, 0.5), (1.0, 1.0, 1.0)])
    v1, v2 = np.array([0.9, 0.1, 0.2, 0.9]), np.array([0.1, 0.9, 0.2, 0.9])
    rows = usage(menu, menu.choose(v1, v2))
    assert sum(r["share"] for r in rows) == 1.0
    assert abs(sum(r["revenue_share"] for r in rows) - 1.0) < 1e-12
    bundle = [r for r in rows if r["x1"] == 1.0 and r["x2"] == 1.0][0]
    assert bundle["share"] == 0.25 and bundle["revenue_share"] == 0.5
