#!/usr/bin/env bash
# Time from `make demo` starting (no trained bundle: a fresh clone after `make setup`) to the
# service's first 200 on /healthz, measured from outside by polling every 0.2 s.
# Usage: scripts/demo_first_answer.sh [PORT]   (run from the repo root; deletes artifacts/demo_bundle)
set -u
PORT=${1:-8000}
PYTHON=${PYTHON:-.venv/bin/python}
rm -rf artifacts/demo_bundle
LOG=$(mktemp)
start=$(date +%s.%N)
"$PYTHON" -m training demo --port "$PORT" >"$LOG" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
    end=$(date +%s.%N)
    echo "first answer after $(echo "$end - $start" | bc) s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    grep -E "beats|does NOT beat|answering" "$LOG"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null
    rm -f "$LOG"
    exit 0
  fi
  sleep 0.2
done
echo "demo exited before answering:"; cat "$LOG"; rm -f "$LOG"; exit 1
