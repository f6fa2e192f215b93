"""Answers kept in the shared cache (``core.kept``): many at once read in one round trip, only the others
computed; without the shared cache, everything computed and nothing kept."""

import pytest
from django.core.cache import cache

from core.kept import kept_many


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def counting(asked):
    def compute(names):
        asked.append(sorted(names))
        return {name: f"answer {name}" for name in names}, 60

    return compute


def test_those_kept_are_read_and_only_the_others_computed_then_kept():
    asked = []
    assert kept_many({1: "k:1", 2: "k:2"}, counting(asked)) == {1: "answer 1", 2: "answer 2"}
    assert kept_many({1: "k:1", 2: "k:2", 3: "k:3"}, counting(asked)) == {n: f"answer {n}" for n in (1, 2, 3)}
    assert asked == [[1, 2], [3]]
    assert cache.get("k:3") == "answer 3"


def test_a_name_without_a_key_is_computed_every_time_and_kept_nowhere():
    asked = []
    for _ in range(2):
        assert kept_many({1: None, 2: "k:2"}, counting(asked)) == {1: "answer 1", 2: "answer 2"}
    assert asked == [[1, 2], [1]]


def test_an_unreachable_cache_computes_everything_and_keeps_nothing(monkeypatch):
    asked = []

    def down(*args, **kwargs):
        raise ConnectionError("the shared cache is down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set_many", down)
    assert kept_many({1: "k:1", 2: "k:2"}, counting(asked)) == {1: "answer 1", 2: "answer 2"}
    assert asked == [[1, 2]]
