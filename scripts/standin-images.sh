#!/usr/bin/env bash
# standin-images.sh: nothing can be pulled on this machine, so build local
# stand-ins, from Debian's binaries, for the public images our examples and
# tests name. An image that already exists (pulled or built before) is left as
# it is, and a missing one is pulled first, so on a machine with internet
# access the real image wins; a stand-in is built only when the pull fails.
#
#   busybox:stable   busybox-static on scratch (sh, wget, nc, sleep, ...)
#   redis:7-alpine   Debian's redis-server and redis-cli with their libraries,
#                    plus busybox, listening on 6379 with EXPOSE 6379 and
#                    /data as a volume, like the official image.
#   golang:1.26      busybox plus a Go 1.26 toolchain in /usr/local/go, with
#                    the official image's PATH, GOPATH and WORKDIR, for the
#                    build stage of the examples' multi-stage Dockerfiles.
#                    GOTOOLCHAIN=local and CGO_ENABLED=0: it cannot download
#                    a toolchain and has no C compiler. The toolchain is this
#                    machine's Go when that is 1.26.x, else the one the go
#                    command fetches from the Go module proxy (GOTOOLCHAIN).
#                    Its build cache is warm for the standard library
#                    packages the examples use.
#   registry:2       go-containerregistry's registry (scripts/standin/registry)
#                    on :5000, blobs in /var/lib/registry, plus busybox.
#   caddy:2          Caddy v2.11.9 (what caddy:2 is today; Debian's is 2.6.2,
#                    four years older, and its proxy cannot retry a request
#                    with a body after a failed dial) built from the Go
#                    module proxy with scripts/gomodbuild.sh, static, cached
#                    by version in $STACK_LAB_CACHE/caddy-VERSION (about 3.5
#                    minutes with cold Go caches, once a machine), plus
#                    busybox (its wget reaches the admin API), with the
#                    official image's paths: /etc/caddy/Caddyfile,
#                    XDG_DATA_HOME=/data and XDG_CONFIG_HOME=/config as
#                    volumes, ports 80, 443 and 2019, and its version label.
#                    A caddy:2 stand-in of another version (or Debian's, with
#                    no version label) is built again. stack's gateway runs it.
set -euo pipefail

need_pkgs=()
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static || need_pkgs+=(busybox-static)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
command -v file >/dev/null || need_pkgs+=(file)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "standin-images: need ${need_pkgs[*]} (Debian packages) to build stand-in images" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  # the redis-server package starts a system service we do not want.
  command -v systemctl >/dev/null && systemctl disable --now redis-server >/dev/null 2>&1 || true
  pkill -x redis-server >/dev/null 2>&1 || true
fi

have() { docker image inspect "$1" >/dev/null 2>&1; }

# missing TAG: true when TAG is neither here nor pullable (pull bounded in time).
missing() {
  have "$1" && return 1
  if timeout "${STANDIN_PULL_TIMEOUT:-300}" docker pull -q "$1" >/dev/null 2>&1; then
    echo "standin-images: pulled $1"
    return 1
  fi
  return 0
}

build() { # tag dir
  local out
  if ! out=$(docker build -q -t "$1" "$2" 2>&1); then
    echo "standin-images: building $1 failed:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "standin-images: built $1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if missing busybox:stable; then
  mkdir -p "$work/busybox"
  cp /bin/busybox "$work/busybox/busybox"
  cat >"$work/busybox/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["sh"]
DOCKERFILE
  build busybox:stable "$work/busybox"
fi
if missing busybox:latest; then docker tag busybox:stable busybox:latest; fi

if missing redis:7-alpine; then
  d="$work/redis"
  mkdir -p "$d/root/bin" "$d/root/data" "$d/root/etc"
  cp /bin/busybox "$d/root/bin/busybox"
  real=$(readlink -f "$(command -v redis-server)")
  cp "$real" "$d/root/bin/redis-server"
  cp "$(readlink -f "$(command -v redis-cli)")" "$d/root/bin/redis-cli"
  for lib in $(ldd "$real" "$(command -v redis-cli)" | awk '/=> \//{print $3} /^\t\/lib64/{print $1}' | sort -u); do
    mkdir -p "$d/root$(dirname "$lib")"
    cp -L "$lib" "$d/root$lib"
  done
  echo 'redis:x:999:999::/data:/bin/sh' >"$d/root/etc/passwd"
  echo 'redis:x:999:' >"$d/root/etc/group"
  cat >"$d/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
WORKDIR /data
VOLUME /data
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no", "--dir", "/data"]
DOCKERFILE
  build redis:7-alpine "$d"
fi

if missing golang:1.26; then
  goroot=
  if command -v go >/dev/null && go env GOVERSION | grep -q '^go1\.26\(\.\|$\)'; then
    goroot=$(go env GOROOT)
  elif command -v go >/dev/null; then
    # the go command downloads golang.org/toolchain from the module proxy.
    goroot=$(GOTOOLCHAIN=go1.26.0 go env GOROOT)
  fi
  if [ -z "$goroot" ] || [ ! -x "$goroot/bin/go" ]; then
    echo "standin-images: need a Go toolchain (https://go.dev/dl/) to build the golang:1.26 stand-in" >&2
    exit 1
  fi
  d="$work/golang"
  mkdir -p "$d/root/bin" "$d/root/usr/local/go" "$d/root/go" "$d/root/root" "$d/root/tmp"
  chmod 1777 "$d/root/tmp"
  cp /bin/busybox "$d/root/bin/busybox"
  # the toolchain without its own test suite and docs: what `go build` needs.
  tar -C "$goroot" --exclude=./test --exclude=./doc --exclude=./api --exclude=testdata -cf - . |
    tar -C "$d/root/usr/local/go" -xf -
  cat >"$d/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/go/bin:/usr/local/go/bin:/bin \
    HOME=/root GOPATH=/go GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
# Warm the build cache for the standard library packages the examples use,
# with the settings their Dockerfiles build with (CGO_ENABLED=0 -trimpath),
# so building an example compiles only its own code: 6 s instead of 30 to
#120 s on 2 busy cores. The official image starts with an empty cache.
RUN ["go", "build", "-trimpath", "net/http", "net/http/httputil", "encoding/json", "embed", "flag", "os/signal", "math/rand/v2", "bufio", "slices"]
WORKDIR /go
CMD ["sh"]
DOCKERFILE
  build golang:1.26 "$d"
fi

if missing registry:2; then
  d="$work/registry"
  mkdir -p "$d/root/bin" "$d/root/var/lib/registry"
  cp /bin/busybox "$d/root/bin/busybox"
  (cd "$(dirname "$0")/.." && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$d/root/bin/registry" ./scripts/standin/registry)
  cat >"$d/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
VOLUME /var/lib/registry
EXPOSE 5000
ENTRYPOINT ["registry"]
DOCKERFILE
  build registry:2 "$d"
fi

# caddy:2 is built again when it is a stand-in of another version: the
# official image and this one carry org.opencontainers.image.version,
# Debian's stand-in of before did not.
CADDY_VERSION=v2.11.9
label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1"; }
if have caddy:2; then
  v=$(label caddy:2 org.opencontainers.image.version)
  if [ -z "$v" ] || { [ "$(label caddy:2 stack.standin)" = true ] && [ "$v" != "$CADDY_VERSION" ]; }; then
    echo "standin-images: caddy:2 is a stand-in of Caddy ${v:-from Debian}: building $CADDY_VERSION"
    docker rmi caddy:2 >/dev/null
  fi
fi
if missing caddy:2; then
  cache=${STACK_LAB_CACHE:-/var/cache/stack-labs}/caddy-$CADDY_VERSION
  if [ ! -x "$cache/caddy" ]; then
    mkdir -p "$cache"
    echo "standin-images: building Caddy $CADDY_VERSION from the Go module proxy into $cache (about 3.5 minutes with cold Go caches)"
    (
      exec 9>/tmp/stack-caddy-build.lock
      flock -w 900 9
      [ -x "$cache/caddy" ] ||
        { "$(dirname "${BASH_SOURCE[0]}")/gomodbuild.sh" "github.com/caddyserver/caddy/v2@$CADDY_VERSION" ./cmd/caddy "$cache/caddy.new" \
          "-X github.com/caddyserver/caddy/v2.CustomVersion=$CADDY_VERSION" && mv "$cache/caddy.new" "$cache/caddy"; }
    ) || { echo "standin-images: building Caddy $CADDY_VERSION failed" >&2; exit 1; }
  fi
  d="$work/caddy"
  mkdir -p "$d/root/bin" "$d/root/etc/caddy" "$d/root/usr/share/caddy" "$d/root/data" "$d/root/config" "$d/root/tmp"
  chmod 1777 "$d/root/tmp"
  cp /bin/busybox "$d/root/bin/busybox"
  cp "$cache/caddy" "$d/root/bin/caddy"
  printf ':80 {\n\troot * /usr/share/caddy\n\tfile_server\n}\n' >"$d/root/etc/caddy/Caddyfile"
  echo 'Caddy works (stand-in)' >"$d/root/usr/share/caddy/index.html"
  cat >"$d/Dockerfile" <<DOCKERFILE
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data
LABEL org.opencontainers.image.version=$CADDY_VERSION stack.standin=true
VOLUME /config /data
EXPOSE 80 443 2019
WORKDIR /srv
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
DOCKERFILE
  build caddy:2 "$d"
fi
