#!/bin/sh
# The peers' own virtual environments for `make bench` (nothing of theirs enters .venv):
#   .venv-peers/rechub  torch-rechub (bench/peers/rechub_dssm.py, the training page)
#   .venv-peers/cornac  Cornac + its Flask serving app under gunicorn (bench/serving_peers.py)
# torch is pinned and installed first, as for the project: an unpinned torch pulls a CUDA build.
# Idempotent: an environment whose stamp exists is left alone.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PEERS="$ROOT/.venv-peers"
PY=${PY:-python3}
mkdir -p "$PEERS"
if [ ! -f "$PEERS/rechub/.installed" ]; then
  "$PY" -m venv "$PEERS/rechub"
  "$PEERS/rechub/bin/pip" install -q torch==2.13.0
  "$PEERS/rechub/bin/pip" install -q -r "$ROOT/bench/peers/requirements-rechub.txt"
  touch "$PEERS/rechub/.installed"
fi
if [ ! -f "$PEERS/cornac/.installed" ]; then
  "$PY" -m venv "$PEERS/cornac"
  "$PEERS/cornac/bin/pip" install -q -r "$ROOT/bench/peers/requirements-cornac.txt"
  touch "$PEERS/cornac/.installed"
fi
