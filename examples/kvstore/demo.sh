#!/usr/bin/env bash
# demo.sh: the kvstore example end to end. `make demo` runs it once the engine
# answers and bin/stack is built: stack up (which builds web), store a key, read it back, then
# the commands to look around. KVSTORE_PORT picks the published port (8080).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
stack=${STACK:-$root/bin/stack}
port=${KVSTORE_PORT:-8080}
export KVSTORE_PORT=$port

if ! command -v curl >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
  else
    echo "demo: needs curl" >&2
    exit 1
  fi
fi

show() { printf '\n$ %s\n' "$*"; }

cd "$here"
show "cd examples/kvstore && stack up -d"
"$stack" up -d
show "curl -X POST localhost:$port/pizza"
curl -sS --fail-with-body -X POST "localhost:$port/pizza"
show "curl localhost:$port/pizza"
curl -sS --fail-with-body "localhost:$port/pizza"

cat <<EOT

web found redis through REDIS_HOST and REDIS_PORT, which stack injected:
compose.yaml names no address. Look around (from examples/kvstore):

  export PATH="$root/bin:\$PATH"
  stack ps              # the two containers, their health and ports
  stack logs web        # the app's log
  stack env web         # its environment: REDIS_HOST, REDIS_PORT injected from redis
  stack plan            # nothing to change
  stack down            # stop and remove; the redis volume keeps the data (-v removes it)
EOT
