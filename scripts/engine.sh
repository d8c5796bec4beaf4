#!/usr/bin/env bash
# engine.sh: make sure a Docker engine answers, installing and starting one when
# we are root on Debian/Ubuntu. An engine that already answers is used as it is
# and never restarted. Used by `make test`, `make demo` and .ci/run.
set -euo pipefail

log=${STACK_DOCKERD_LOG:-/var/log/stack-dockerd.log}
wait_seconds=${STACK_ENGINE_WAIT:-60}

say() { printf 'engine: %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "no Docker engine answers, and I can only install one as root on Debian/Ubuntu."
  say "install Docker (https://docs.docker.com/engine/install/), start it, and run this again."
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing docker.io with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd (log: $log)"
  nohup dockerd >"$log" 2>&1 &
fi

for _ in $(seq 1 "$wait_seconds"); do
  if docker info >/dev/null 2>&1; then
    say "ready: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}')"
    exit 0
  fi
  sleep 1
done

say "dockerd did not answer within ${wait_seconds}s; last lines of $log:"
tail -n 20 "$log" >&2 || true
exit 1
