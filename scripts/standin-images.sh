#!/usr/bin/env bash
# standin-images.sh: nothing can be pulled on this machine, so build local
# stand-ins, from Debian's binaries, for the public images our examples and
# tests name. An image that already exists (pulled or built before) is left as
# it is, so on a machine with internet access the real image wins.
#
#   busybox:stable   busybox-static on scratch (sh, wget, nc, sleep, ...)
#   redis:7-alpine   Debian's redis-server and redis-cli with their libraries,
#                    plus busybox, listening on 6379 with EXPOSE 6379 and
#                    /data as a volume, like the official image.
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

build() { # tag dir
  docker build -q -t "$1" "$2" >/dev/null
  echo "standin-images: built $1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! have busybox:stable; then
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
have busybox:latest || docker tag busybox:stable busybox:latest

if ! have redis:7-alpine; then
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
