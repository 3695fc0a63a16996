"""The audits find manipulations where there are some, and none in a menu mechanism."""

import numpy as np

from amdlib.problems.multi_item.audit import audit_menu, audit_raw, misreport_grid
from amdlib.problems.multi_item.baselines import MV_BUNDLE, MV_ITEM, two_price_menu
from amdlib.problems.multi_item.menu import Menu


def test_a_menu_has_zero_regret_and_no_ir_violation():
    v1, v2 = np.random.default_rng(0).uniform(size=(2, 3000))
    a = audit_menu(two_price_menu(MV_ITEM, MV_BUNDLE), v1, v2, points=41)
    assert a["max_regret"] == 0.0 and a["min_utility"] >= 0.0 and a["sp"] == 1.0 and a["ir"] == 1.0
    assert a["outcomes_reached"] == 4 and a["misreports"] == 41 * 41


class _Careless(Menu):
    """A broken chooser (always the first non-null entry): the audit must notice."""

    def choose(self, v1, v2):
        return np.ones(len(np.ravel(v1)), dtype=np.int64)


def test_the_audit_catches_a_mechanism_that_is_not_sp():
    m = two_price_menu(0.5, 0.9)
    broken = _Careless(m.x1, m.x2, m.p)
    v1, v2 = np.random.default_rng(1).uniform(size=(2, 500))
    a = audit_menu(broken, v1, v2, points=21)
    assert a["ir"] == 0.0 and a["min_utility"] < 0  # low types pay for something they do not want


def test_a_value_charging_direct_mechanism_is_caught():
    # sell each item to whoever values it above 0.5 and charge the value: not SP
    g1, g2 = misreport_grid(21)
    x1, x2 = (g1 >= 0.5) * 1.0, (g2 >= 0.5) * 1.0
    a = audit_raw(x1, x2, g1 * x1 + g2 * x2, g1, g2)
    assert a["max_regret"] > 0.4 and a["ir_violations"] == 0.0
    # posted prices of 0.7 to types allocated from 0.5 up: IR fails below 0.7, and no misreport helps
    a = audit_raw(x1, x2, 0.7 * (x1 + x2), g1, g2)
    assert a["ir_violations"] > 0.0
    a = audit_raw((g1 >= 0.7) * 1.0, np.zeros_like(g2), 0.7 * (g1 >= 0.7), g1, g2)
    assert a["ir_violations"] == 0.0 and a["max_regret"] == 0.0
