#!/usr/bin/env bash
# compose.sh: make sure `docker compose` runs (the end-to-end tests take over a
# project Docker Compose deployed), building the CLI plugin from its Go module
# when it does not. The source comes from the Go module proxy only: `go install
# module/cmd@version` refuses this module (its go.mod has exclude directives),
# so the module is downloaded, copied somewhere writable and built there. A
# `docker compose` that already runs is used as it is. Used by `make engine`.
set -euo pipefail

version=${STACK_COMPOSE_VERSION:-v5.6.0}
module=github.com/docker/compose/v5
plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

say() { printf 'compose: %s\n' "$*" >&2; }

if docker compose version >/dev/null 2>&1; then
  exit 0
fi

say "building docker compose $version from the Go module proxy (3-4 minutes with cold Go caches, seconds with warm ones)"
mkdir -p "$plugins"
"$(dirname "${BASH_SOURCE[0]}")/gomodbuild.sh" "$module@$version" ./cmd "$plugins/docker-compose" "-X $module/internal.Version=$version"
say "installed $(docker compose version) at $plugins/docker-compose"
