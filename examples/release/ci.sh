#!/usr/bin/env bash
# ci.sh: the release job of a CI pipeline, unattended:
#
#   release (build once, push to staging's registry, lock the digests)
#   -> deploy staging pinned to the lock -> smoke-test staging
#   -> promote the exact digests to prod's registry -> deploy prod pinned -> smoke-test prod
#
# Progress goes to $EVENTS as JSON lines (one event per line: resource,
# action, status, time, error); stdout keeps the results (lock paths). The
# first failing step ends the job with stack's exit code, so the CI system
# marks the job failed; prod is never touched when staging fails.
#
# Environment: STACK (the stack binary; default: stack on PATH), RELEASE_TAG
# (default: the git commit, else the time), EVENTS (default: a temporary
# file), STAGING_URL and PROD_URL (the smoke-test addresses; default: the
# ports of staging.env and prod.env).
set -euo pipefail
cd "$(dirname "$0")"

stack=${STACK:-stack}
tag=${RELEASE_TAG:-$(git rev-parse --short HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)}
events=${EVENTS:-$(mktemp -t stack-events.XXXXXX)}
staging_url=${STAGING_URL:-http://127.0.0.1:8091/}
prod_url=${PROD_URL:-http://127.0.0.1:8092/}

step() { printf '== %s\n' "$*"; }
stack() { "$stack" --progress json "$@" 2>>"$events"; }

# smoke URL ENV: the app answers, in the environment it was deployed to.
smoke() {
  local body
  body=$(curl -fsS --max-time 5 --retry 10 --retry-connrefused --retry-delay 1 "$1")
  case "$body" in
    *"\"environment\":\"$2\""*) echo "$2 answers: $body" ;;
    *) echo "smoke test of $2 failed: $1 answered $body" >&2; return 1 ;;
  esac
}

step "release $tag to staging (events: $events)"
stack release --env staging --tag "$tag" | tail -n 1
step "deploy staging"
stack up -d --env staging --lock current
step "test staging"
smoke "$staging_url" staging
step "promote to prod"
stack promote staging prod | tail -n 1
step "deploy prod"
stack up -d --env prod --lock current
step "test prod"
smoke "$prod_url" prod
