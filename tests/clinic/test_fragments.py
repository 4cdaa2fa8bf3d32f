"""Rendered page parts kept for reuse (clinic.fragments)."""

import pytest

from clinic.fragments import cached_fragment


class TestFragments:
    def test_are_built_once_for_the_same_inputs(self):
        built = []

        def render():
            built.append(1)
            return "<p>findings</p>"

        first = cached_fragment("test", (1, "v1"), render)
        second = cached_fragment("test", (1, "v1"), render)

        assert first == second == "<p>findings</p>"
        assert len(built) == 1

    @pytest.mark.parametrize("changed", [(2, "v1"), (1, "v2")])
    def test_are_built_again_when_any_input_changes(self, changed):
        cached_fragment("test", (1, "v1"), lambda: "old")

        assert cached_fragment("test", changed, lambda: "new") == "new"

    def test_of_different_pages_never_mix(self):
        cached_fragment("one", (1,), lambda: "one")

        assert cached_fragment("two", (1,), lambda: "two") == "two"
