"""The words and pictures of a menu are computed from the menu."""

import numpy as np

from amdlib.problems.multi_item.baselines import MV_BUNDLE, MV_ITEM, two_price_menu
from amdlib.problems.multi_item.explain import allocation_image, explain, kind, price_image
from amdlib.problems.multi_item.menu import from_entries, usage


def test_kinds_of_entries():
    assert [kind(0, 0), kind(1, 0), kind(0, 1), kind(1, 1), kind(0.5, 1)] == \
        ["nothing", "item 1", "item 2", "bundle", "lottery"]


def test_the_manelli_vincent_menu_in_words_and_pictures():
    menu = two_price_menu(MV_ITEM, MV_BUNDLE)
    v1, v2 = np.random.default_rng(0).uniform(size=(2, 20000))
    text = explain(usage(menu, menu.choose(v1, v2)))
    assert "bundle for 0.862" in text and "item 1 for 0.667" in text and "buy nothing" in text
    img = allocation_image(menu, points=11)
    assert img.shape == (11, 11, 3)
    assert tuple(img[0, 10]) == (1.0, 0.0, 0.0)  # v1 = 1, v2 = 0: item 1 (red)
    assert tuple(img[10, 0]) == (0.0, 0.0, 1.0)  # v1 = 0, v2 = 1: item 2 (blue)
    assert tuple(img[10, 10]) == (1.0, 0.0, 1.0) and tuple(img[0, 0]) == (0.0, 0.0, 0.0)
    assert price_image(menu, points=11)[10, 10] == menu.p.max()


def test_rare_entries_are_summarised():
    menu = from_entries([(0.5, 0.5, 0.4), (1.0, 1.0, 0.9)])
    rows = usage(menu, menu.choose(np.array([0.9, 0.1, 0.95]), np.array([0.9, 0.1, 0.99])))
    assert "lottery" not in explain(rows, min_share=0.5) and "more entries" in explain(rows, min_share=0.5)
