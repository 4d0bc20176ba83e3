#!/usr/bin/env bash
# Install wavediff (editable) into the active Python environment, with every room's field libraries.
#   bash install.sh        the package and all rooms' extras (wavediff[all]): everything `wavediff demo` needs
#   bash install.sh dev    plus the test tools (pytest, hypothesis, ruff, notebook runner)
# Set PYTHON to choose the interpreter (default: python3). A single room: pip install -e '.[eeg]'.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
extras="all"
if [ "${1:-}" = "dev" ]; then extras="all,dev"; fi

if ! "$PYTHON" -c "import torch" >/dev/null 2>&1; then
  # A torch wheel that this machine already provides (pip's find-links) comes first: it is the build
  # meant for the machine, whereas a bare `pip install torch` takes the newest release, which on
  # Linux is a multi-GB CUDA build. Elsewhere nothing is found locally and pip's normal choice stands.
  if "$PYTHON" -m pip install --no-index --no-deps torch >/dev/null 2>&1; then
    version="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("torch"))')"
    echo "install.sh: using the torch $version wheel provided on this machine"
    "$PYTHON" -m pip install "torch==$version"  # its own dependencies, from the registry
  else
    "$PYTHON" -m pip install torch
  fi
fi

"$PYTHON" -m pip install -e ".[$extras]"
