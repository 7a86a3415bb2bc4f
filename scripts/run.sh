#!/bin/sh
# The README's two Quickstart commands, for a fresh Debian/Ubuntu machine with Python >= 3.10:
#   sh scripts/run.sh demo [options]   trains the reference demo (python -m nn train), pictures in runs/
#   sh scripts/run.sh test [args]      runs the whole test suite (tests/ and the notebooks)
# Each first makes sure .venv exists with the project installed, and Graphviz's dot (scripts/setup.sh);
# `test` also installs PyTorch 2.13.0 (CPU), which the parity tests compare against.
set -eu
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

command="${1:-}"
case "$command" in
    demo|test) shift ;;
    *) echo "usage: sh scripts/run.sh demo [python -m nn train options] | test [pytest options]" >&2
       exit 2 ;;
esac

# (re)install when the venv is new or what it installs changed; the Graphviz check is quick.
# The marker says what is installed: .installed-demo (the project), .installed-test (also torch).
marker="$VENV/.installed-$command"
if [ ! -f "$marker" ] || [ pyproject.toml -nt "$marker" ] || [ scripts/setup.sh -nt "$marker" ]; then
    if [ "$command" = test ]; then
        VENV="$VENV" sh scripts/setup.sh test
        touch "$VENV/.installed-demo"
    else
        VENV="$VENV" sh scripts/setup.sh
    fi
    touch "$marker"
else
    sh scripts/setup.sh graphviz
fi

unset MPLBACKEND  # matplotlib picks Agg when there is no display
if [ "$command" = demo ]; then
    exec "$VENV/bin/python" -m nn train "$@"
fi
exec "$VENV/bin/python" -m pytest "$@"
