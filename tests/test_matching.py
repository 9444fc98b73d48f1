"""The matching of a programme's parts to its lots: most chips covered, best fits first."""

from __future__ import annotations

from tracker.service.matching import cover


def test_as_much_is_covered_as_can_be_whatever_the_order() -> None:
    # A greedy pass would give "a" to the exact fit x and leave y uncovered.
    supplies = {"a": 50, "b": 50}
    demands = [("x", 50, True), ("y", 50, True)]
    fit = {("a", "x"): 0, ("a", "y"): 1, ("b", "x"): 1}
    assert cover(supplies, demands, fit) == {("a", "y"): 50, ("b", "x"): 50}


def test_the_best_fit_is_taken_when_there_is_a_choice() -> None:
    assert cover({"a": 10}, [("x", 10, True), ("y", 10, True)], {("a", "x"): 2, ("a", "y"): 0}) == {
        ("a", "y"): 10
    }


def test_first_demands_are_served_first_and_keep_what_they_hold() -> None:
    supplies = {"a": 10, "b": 5}
    demands = [("later", 15, False), ("first", 10, True)]
    fit = {("a", "first"): 0, ("a", "later"): 0, ("b", "later"): 0}
    assert cover(supplies, demands, fit) == {("a", "first"): 10, ("b", "later"): 5}


def test_nothing_is_covered_without_a_fit() -> None:
    assert cover({"a": 10}, [("x", 10, True)], {}) == {}
