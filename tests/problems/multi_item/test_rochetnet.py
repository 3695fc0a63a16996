"""RochetNet: a learned menu, exact SP/IR after training, deterministic given its seed."""

import numpy as np

from amdlib.problems.multi_item.audit import audit_menu
from amdlib.problems.multi_item.distributions import ValueLaw
from amdlib.problems.multi_item.rochetnet import RochetNetConfig, train


def test_short_training_learns_a_good_exact_menu_reproducibly():
    law = ValueLaw()
    config = RochetNetConfig(entries=16, steps=150, batch=512, lr=0.02, seed=0)
    a, b = train(law, config), train(law, config)
    assert a.menu.entries() == b.menu.entries() and a.curve == b.curve
    v1, v2 = law.sample(5, 50_000)
    revenue = a.menu.payments(v1, v2).mean()
    assert revenue > 0.53  # selling separately earns 0.5; the optimum 0.549
    assert len(a.menu) <= 17 and a.menu.x1[0] == 0.0 and a.menu.p[0] == 0.0
    checks = audit_menu(a.menu, v1[:2000], v2[:2000], points=41)
    assert checks["sp"] == 1.0 and checks["ir"] == 1.0
    assert np.all((a.menu.x1 >= 0) & (a.menu.x1 <= 1))
