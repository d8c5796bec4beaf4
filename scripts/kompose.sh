#!/usr/bin/env bash
# kompose.sh: make sure kompose (the Kubernetes project's compose-to-
# manifests converter) is built, and print the path of its binary. The
# Kubernetes benchmark (engine/kube/bench_test.go) measures `stack up`
# beside `kompose convert` applied with kubectl, and runs this script to
# find it.
#
# The source comes from the Go module proxy only. `go install
# module@version` refuses this module (its go.mod has a replace directive),
# so scripts/gomodbuild.sh copies it somewhere writable and builds it
# there, as for docker compose (scripts/compose.sh). The binary is cached by
# version outside the clone, in $STACK_LAB_CACHE/kompose-VERSION/kompose
# (default /var/cache/stack-labs, beside the labs' binaries), so every
# clone on the machine builds it once: about 4 minutes with cold Go caches
# on this project's 2 cores, nothing afterwards.
#
#   scripts/kompose.sh     build when needed; print the binary's path
#
# STACK_KOMPOSE_VERSION picks another version (default v1.38.0, the newest
# the proxy served on 2026-12-07).
set -euo pipefail

version=${STACK_KOMPOSE_VERSION:-v1.38.0}
module=github.com/kubernetes/kompose
dir=${STACK_LAB_CACHE:-/var/cache/stack-labs}/kompose-$version
bin=$dir/kompose
lock=/tmp/stack-kompose.lock

say() { printf 'kompose: %s\n' "$*" >&2; }

if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$dir"
exec 9>"$lock"
flock -w 900 9 || { say "another kompose.sh has held $lock for 15 minutes"; exit 1; }
if [ -x "$bin" ]; then # built while this one waited
  echo "$bin"
  exit 0
fi

say "building kompose $version from the Go module proxy into $dir (about 4 minutes with cold Go caches)"
"$(dirname "${BASH_SOURCE[0]}")/gomodbuild.sh" "$module@$version" . "$bin.new" "-X $module/pkg/version.GITCOMMIT=goproxy"
mv "$bin.new" "$bin"
say "built $("$bin" version) at $bin"
echo "$bin"
