"""Shared test settings: hypothesis profiles (deterministic in CI) and the `slow` marker."""

import os

import pytest

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_collection_modifyitems(items):
    """The `slow` marker (`pytest -m "not slow"` is the fast inner loop): every notebook nbmake
    runs and every browser test is slow; other slow tests (a million nodes, a subprocess, a
    kernel) carry @pytest.mark.slow themselves."""
    slow = pytest.mark.slow
    for item in items:
        path = str(item.path)
        if path.endswith(".ipynb") or f"{os.sep}e2e{os.sep}" in path:
            item.add_marker(slow)
