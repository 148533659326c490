#!/usr/bin/env bash
# A short soak: scripts/soak.sh (make soak) for 60 s.  Traffic both ways
# in poll, interrupt and adaptive mode while host services are killed
# (SIGKILL) and restarted at random; every message is accounted for
# (sent = received + lost, lost = what the device reclaimed), and the
# guest's census finds every block free at the end.
cd "$(dirname "$0")/../../.."
SOAK_SECONDS=${SOAK_SECONDS:-60} exec nice -n 10 bash scripts/soak.sh
