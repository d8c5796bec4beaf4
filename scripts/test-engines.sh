#!/usr/bin/env bash
# test-engines.sh: `make test`'s runner. It runs the tests once per engine,
# one pass after the other, each under a watchdog:
#
#   main   every package, on the main engine (DOCKER_HOST unset: 20.10 here),
#          with the Kubernetes lab's KUBECONFIG, STACK_KUBE_NODE and
#          STACK_KUBE_REGISTRY (scripts/kube-lab.sh env) when it is up:
#          engine/kube's end-to-end tests drive it
#   29     the packages whose end-to-end tests drive the engine DOCKER_HOST
#          names (TEST_PKGS_29), on engine 29 (scripts/engine-29.sh, which
#          must be up); engine/swarm drives the Swarm lab's own engines and
#          runs in the main pass only
#
# In each pass TestKilledUpConverges (engine/docker), which SIGKILLs
# `stack up` at every operation of its walk, runs apart, after the rest:
# beside other packages' tests it is what wedged the 20.10 engine's network
# code (issue 21).
#
# The watchdog asks the pass's engine for `docker info` every 15s; when it
# has not answered within 30s twice running, the engine is wedged: it has
# the engine write a goroutine dump (SIGUSR1), prints where, and ends the
# pass's tests, so the run fails within minutes rather than at -timeout.
#
#   scripts/test-engines.sh [main|29|all]    (default all)
#   scripts/test-engines.sh watch HOST PIDFILE EXECROOT -- COMMAND...
#                                            any command under the watchdog
#
# Environment: TEST_PKGS (./...), TEST_PKGS_29, TEST_TIMEOUT (60m),
# TEST_FLAGS (extra go test flags, e.g. -run).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
GO=${GO:-go}
TEST_PKGS=${TEST_PKGS:-./...}
TEST_PKGS_29=${TEST_PKGS_29:-./cmd/... ./dashboard/... ./engine/docker/... ./image/... ./lock/... ./registry/... ./deploy/... ./examples/...}
TEST_TIMEOUT=${TEST_TIMEOUT:-60m}
KILL_TEST='^TestKilledUpConverges$'
# Left out of the engine-29 pass (a -skip pattern), each with why: none.
SKIP_29=''
# Left out of the main pass: TestUpOnAStoppedLabEngine SIGSTOPs engine 29's
# dockerd, so it runs in the engine-29 pass only.
SKIP_MAIN='^TestUpOnAStoppedLabEngine$'
KILL_PKG=./engine/docker/
WEDGED=$(mktemp -u /tmp/test-engines-wedged.XXXXXX) # made when the watchdog acts
trap 'rm -f "$WEDGED"' EXIT

say() { printf 'test-engines: %s\n' "$*" >&2; }
now() { date +%s; }

# watchdog HOST PIDFILE EXECROOT PGID: see the header.
watchdog() {
  local host=$1 pidfile=$2 execroot=$3 pgid=$4 fails=0 pid dump
  while kill -0 "$pgid" 2>/dev/null; do
    sleep 15
    if timeout 30 docker -H "$host" info >/dev/null 2>&1; then fails=0; continue; fi
    kill -0 "$pgid" 2>/dev/null || return 0
    fails=$((fails + 1))
    [ "$fails" -ge 2 ] || continue
    : >"$WEDGED"
    say "the engine at $host has not answered \`docker info\` within 30s twice running: it is wedged"
    pid=$(cat "$pidfile" 2>/dev/null)
    if [ -n "$pid" ] && kill -USR1 "$pid" 2>/dev/null; then
      sleep 3
      dump=$(ls -t "$execroot"/goroutine-stacks-*.log 2>/dev/null | head -1)
      say "its goroutine dump (kill -USR1 $pid): ${dump:-none found under $execroot, see the log of the engine}"
    fi
    say "ending the tests (process group $pgid)"
    kill -TERM -- "-$pgid" 2>/dev/null
    sleep 5
    kill -KILL -- "-$pgid" 2>/dev/null
    return 1
  done
}

# watched NAME HOST PIDFILE EXECROOT -- go test ARGS: runs go test in a
# process group of its own under the watchdog.
watched() {
  local name=$1 host=$2 pidfile=$3 execroot=$4 rc pgid wrc
  shift 5
  setsid "$@" &
  pgid=$!
  watchdog "$host" "$pidfile" "$execroot" "$pgid" &
  local wd=$!
  wait "$pgid"; rc=$?
  if kill -0 "$wd" 2>/dev/null && ! [ -e "$WEDGED" ]; then
    kill "$wd" 2>/dev/null; wait "$wd" 2>/dev/null; wrc=0
  else
    wait "$wd"; wrc=$?
  fi
  [ "$wrc" = 0 ] || { say "$name: stopped by the watchdog"; return 1; }
  return "$rc"
}

# pass NAME HOST PIDFILE EXECROOT SKIP PKGS...
pass() {
  local name=$1 host=$2 pidfile=$3 execroot=$4 skip=$5 t0 rc=0
  shift 5
  t0=$(now)
  say "$name: go test $* (engine $host)"
  # shellcheck disable=SC2086
  watched "$name" "$host" "$pidfile" "$execroot" -- \
    "$GO" test -count=1 -timeout "$TEST_TIMEOUT" -skip "$KILL_TEST${skip:+|$skip}" ${TEST_FLAGS:-} "$@" || rc=1
  say "$name: TestKilledUpConverges, apart"
  # shellcheck disable=SC2086
  watched "$name" "$host" "$pidfile" "$execroot" -- \
    "$GO" test -count=1 -timeout 20m -run "$KILL_TEST" ${TEST_FLAGS:-} "$KILL_PKG" || rc=1
  say "$name: $([ $rc = 0 ] && echo passed || echo FAILED) in $(($(now) - t0))s"
  return $rc
}

main_pass() {
  local kube
  kube=$("$HERE/kube-lab.sh" env 2>/dev/null) || kube=""
  (unset DOCKER_HOST DOCKER_CONTEXT; eval "$kube"; cd "$ROOT" &&
    # shellcheck disable=SC2086
    pass main unix:///var/run/docker.sock /var/run/docker.pid /var/run/docker "$SKIP_MAIN" $TEST_PKGS)
}

pass_29() {
  local env
  env=$("$HERE/engine-29.sh" env) || { say "engine 29 is not up: scripts/engine-29.sh up (make engine-29)"; return 1; }
  (eval "$env" && cd "$ROOT" &&
    # shellcheck disable=SC2086
    pass engine-29 "$DOCKER_HOST" /run/stack-engine-29/docker.pid /run/stack-engine-29/exec "$SKIP_29" $TEST_PKGS_29)
}

rc=0
case "${1:-all}" in
  main) main_pass || rc=1 ;;
  29) pass_29 || rc=1 ;;
  all)
    main_pass || rc=1
    pass_29 || rc=1
    ;;
  watch) shift; watched command "$@" || rc=$? ;; # watch HOST PIDFILE EXECROOT -- COMMAND...
  *) say "usage: $0 [main|29|all]"; exit 2 ;;
esac
exit $rc
