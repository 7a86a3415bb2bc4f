#!/bin/sh
# Set up a development environment on a fresh Debian/Ubuntu machine that has Python >= 3.10:
# a virtual environment in .venv with the project installed (pip install -e '.[dev,e2e]'),
# Graphviz's `dot` program and Chromium (the JupyterLab browser test, tests/e2e). As root it
# installs missing Debian packages with apt-get; otherwise it prints the exact command to run.
# Used by scripts/run.sh (the README Quickstart commands).
# Usage: sh scripts/setup.sh            everything
#        sh scripts/setup.sh graphviz   only the `dot` check
set -eu

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
cd "$(dirname "$0")/.."

say() { printf '%s\n' "setup: $*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {  # apt_install PACKAGE...: install as root, or print the command and fail
    if is_root && have apt-get; then
        say "installing $* with apt-get"
        if [ -z "${APT_UPDATED:-}" ]; then
            DEBIAN_FRONTEND=noninteractive apt-get update -q
            APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
    else
        say "missing: $*. Install it with:"
        say "    sudo apt-get update && sudo apt-get install -y $*"
        return 1
    fi
}

install_graphviz() {
    if ! have dot; then
        apt_install graphviz || say "continuing without Graphviz: graph drawings will be skipped or fail"
    fi
}

install_chromium() {  # Playwright drives Debian's Chromium (it cannot download its own here)
    if [ ! -x /usr/bin/chromium ]; then
        apt_install chromium || say "continuing without Chromium: the browser test will be skipped"
    fi
}

if [ "${1:-}" = graphviz ]; then
    install_graphviz
    exit 0
fi

# --- Python >= 3.10 ---------------------------------------------------------------------------------
if ! have "$PYTHON"; then
    say "$PYTHON not found; autograd-core needs Python >= 3.10 (set PYTHON=/path/to/python3)"
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    say "$("$PYTHON" --version 2>&1) is too old; autograd-core needs Python >= 3.10"
    exit 1
fi

# --- the virtual environment (Debian ships venv's ensurepip in a separate package) ---------------
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $("$PYTHON" --version 2>&1)"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        apt_install "python$version-venv" || apt_install python3-venv || exit 1
        "$PYTHON" -m venv "$VENV"
    fi
fi

# --- the project and its development tools ---------------------------------------------------------
say "installing the project into $VENV (pip install -e '.[dev,e2e]')"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[dev,e2e]'

# --- Graphviz's dot program (graph drawings) ---------------------------------------------------------
install_graphviz
install_chromium
say "ready: $VENV/bin/python"
