#!/usr/bin/env bash
# Run pytest with the machine's clock moved to HH:MM UTC of today's UTC date, running on from
# there in every process (workers, servers, commands, browsers), e.g.
#   scripts/pytest-at-utc.sh 23:50 -m operator_day tests
# From 16:00 UTC the operator's day (Asia/Shanghai) is already the next one: the suite must
# pass at every hour. Only the wall clock moves: the monotonic clock (Python's timeouts) stays
# real (see scripts/faketime_monotonic_sleep.c). Installs Debian's faketime, and gcc for that
# shim, when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
at=${1:?usage: scripts/pytest-at-utc.sh HH:MM [pytest arguments]}
shift

library() { dpkg -L libfaketime 2>/dev/null | grep '/libfaketimeMT\.so\.1$' || true; }
if [ -z "$(library)" ]; then
  apt-get update -qq && apt-get install -y -qq faketime >/dev/null
fi
command -v cc >/dev/null 2>&1 || apt-get install -y -qq gcc libc6-dev >/dev/null
shim_dir=$(mktemp -d)
trap 'rm -rf "$shim_dir"' EXIT
cc -shared -fPIC -O2 -o "$shim_dir/monotonic_sleep.so" scripts/faketime_monotonic_sleep.c -ldl

target=$(date -u -d "$(date -u +%F) $at" +%s)
offset=$((target - $(date -u +%s)))
export TZ=UTC FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME
FAKETIME=$(printf '%+d' "$offset")
export LD_PRELOAD="$shim_dir/monotonic_sleep.so $(library)"
# Chromium's own timed waits break when only its wall clock is faked: it gets libfaketime alone,
# monotonic clock included (consistent within the browser), through OPEN12306_CHROMIUM.
browser=${OPEN12306_CHROMIUM:-$(command -v chromium || true)}
if [ -n "$browser" ]; then
  printf '#!/bin/sh\nunset FAKETIME_DONT_FAKE_MONOTONIC\nLD_PRELOAD=%s exec %s "$@"\n' \
    "$(library)" "$browser" >"$shim_dir/chromium"
  chmod +x "$shim_dir/chromium"
  export OPEN12306_CHROMIUM="$shim_dir/chromium"
fi

# The faked clock must reach Python, and its timeouts must still work.
.venv/bin/python - "$target" <<'PY'
import sys, threading, time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo
now = datetime.now(UTC)
assert abs(now.timestamp() - int(sys.argv[1])) < 120, f"faketime did not take: {now}"
started = time.monotonic()
time.sleep(0.05)
threading.Event().wait(0.05)
assert time.monotonic() - started < 5, "timeouts misbehave under faketime"
print(f"clock: {now:%Y-%m-%d %H:%M} UTC, {now.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M} in Shanghai")
PY
.venv/bin/pytest "$@"
