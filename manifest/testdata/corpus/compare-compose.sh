#!/usr/bin/env bash
# compare-compose.sh: run every case of cases.txt through Docker Compose and
# through stack, and diff what they print. Compose is not a dependency of
# stack: point COMPOSE at a docker-compose binary (v2/v5 standalone) and STACK
# at a built stack (default: go build into a temp dir).
#   COMPOSE=/path/to/docker-compose manifest/testdata/corpus/compare-compose.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${COMPOSE:?set COMPOSE to a docker-compose binary}"
if [ -z "${STACK:-}" ]; then
  STACK=$(mktemp -d)/stack
  (cd "$here/../../.." && go build -o "$STACK" ./cmd/stack) || exit 1
fi
fail=0
while read -r name dir env args; do
  case "$name" in ''|'#'*) continue ;; esac
  envs=()
  [ "$env" != - ] && IFS=, read -r -a envs <<<"$env"
  read -r -a argv <<<"$args"
  run() { (cd "$here/$dir" && env -u COMPOSE_PROJECT_NAME -u COMPOSE_PROFILES -u COMPOSE_FILE PWD="$here/$dir" "${envs[@]}" "$@" 2>/dev/null; echo "exit $?"); }
  want=$(run "$COMPOSE" "${argv[@]}")
  got=$(run "$STACK" "${argv[@]}" --no-inject) # the model without stack's injected addresses
  if [[ " ${argv[*]} " == *" --images "* || " ${argv[*]} " == *" --services "* ]]; then
    # compose prints these in map order, which varies from run to run
    want=$(sort <<<"$want"); got=$(sort <<<"$got")
  fi
  if [ "$want" == "$got" ]; then
    echo "same  $name"
  else
    echo "DIFF  $name"; diff <(echo "$want") <(echo "$got") | sed 's/^/      /'; fail=1
  fi
done <"$here/cases.txt"
exit $fail
