"""Helpers the tests share: op_cases (every op's sample points), programs (random expression
graphs), graphs (DOT readers and small models); REPO is the repository's root."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
