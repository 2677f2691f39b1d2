#!/usr/bin/env bash
# The ecosystem check (see scripts/ecosystem.py): run two aiguard builds over
# the real AI applications pinned in scripts/ecosystem.txt and print the
# findings that appear or disappear, and the time of each.
#   scripts/ecosystem.sh OLD_BINARY NEW_BINARY [--repos DIR] [--only NAME ...]
exec python3 "$(dirname "$0")/ecosystem.py" "$@"
