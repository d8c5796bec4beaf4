#!/usr/bin/env bash
# ci.sh: the release job of a CI pipeline, unattended:
#
#   release (build once, push to staging's registry, lock the digests)
#   -> deploy staging pinned to the lock: its migration (x-stack.release.before) runs once, before
#      the new version serves; then the deploy runs staging's checks and records the outcome with
#      the release (a release failing them is rolled back to the last verified one: exit 1)
#   -> promote the exact digests to prod's registry (refused unless staging verified them)
#   -> deploy prod pinned, verified the same way: on failure prod is rolled back to its last
#      verified release (as `stack rollback --env prod` does) and the job fails
#
# Progress goes to $EVENTS as JSON lines (one event per line: resource,
# action, status, time, error); stdout keeps the results (lock paths, check
# results). The first failing step ends the job with stack's exit code, so
# the CI system marks the job failed; prod is never touched when staging
# fails its checks. The history (locks, deploys, verifications) is stored
# in each environment's registry, so the next job, on another runner, sees it.
#
# Environment: STACK (the stack binary; default: stack on PATH), RELEASE_TAG
# (default: the git commit, else the time), EVENTS (default: a temporary
# file).
set -euo pipefail
cd "$(dirname "$0")"

stack=${STACK:-stack}
tag=${RELEASE_TAG:-$(git rev-parse --short HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)}
events=${EVENTS:-$(mktemp -t stack-events.XXXXXX)}

step() { printf '== %s\n' "$*"; }
stack() { "$stack" --progress json "$@" 2>>"$events"; }

step "release $tag to staging (events: $events)"
stack release --env staging --tag "$tag" | tail -n 1
step "deploy staging: migrate, deploy, verify"
stack up -d --env staging --lock current
stack releases --env staging
step "promote to prod"
stack promote staging prod | tail -n 1
step "deploy prod: migrate, deploy, verify"
if ! stack up -d --env prod --lock current; then
  step "prod failed its checks and was rolled back"
  stack releases --env prod
  exit 1
fi
step "prod history"
stack releases --env prod
