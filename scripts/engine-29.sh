#!/usr/bin/env bash
# engine-29.sh: a current Docker Engine (29.x, API 1.56) with containerd 2
# and runc, built from the Go module proxy, running beside the main engine
# (20.10) so the end-to-end tests run on both.
#
# The engine runs in a network namespace of its own (stk29, address
# 10.239.0.1, the host side of its veth 10.239.0.254; its containers
# 10.240.0.0/15, routed from here through the veth), and in a mount namespace
# of its own, so its container mounts and network handles go with it. It may
# use iptables freely in there; it runs with iptables off all the same, so no
# packet filter stands between this machine and its containers. Nothing in
# this namespace's iptables is touched.
#
# Loopback is this machine's, in both directions, as it is for an engine
# installed here, so the tests need no change:
#   - published ports: the engine's docker-proxy is run in this namespace
#     (a userland-proxy wrapper), so 127.0.0.1:PORT here reaches the
#     container, and a port already held here fails the publish.
#   - registries on 127.0.0.1 (the tests' Go registries): inside the
#     namespace every TCP connection to 127.0.0.0/8 is redirected to a small
#     forwarder (scripts/engine29/loopback) that dials the same port here.
#
# Binaries are cached by version outside the clone (STACK_LAB_CACHE, default
# /var/cache/stack-labs), so every clone on the machine reuses them:
#   /var/cache/stack-labs/docker-29.8.1-beta.24_containerd-v2.4.2_runc-v1.5.2/bin
# The stand-in images (scripts/standin-images.sh, on the main engine) are
# copied in with docker save | docker load.
#
#   scripts/engine-29.sh up       build when needed, start, print the exports:
#                                 eval "$(scripts/engine-29.sh up)"
#   scripts/engine-29.sh env      print the exports again
#   scripts/engine-29.sh status   exit 0 up and answering, 1 partial, 3 not up
#   scripts/engine-29.sh down     remove everything up made (processes,
#                                 namespaces, veth, route, mounts, data)
#   scripts/engine-29.sh build    only build (or find) the binaries
#
# Exit status 2: this machine cannot host the engine (not root, a missing
# tool, the addresses taken).
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
ROOT=$(dirname "$HERE")
GO=${GO:-go}

MOBY_VERSION=v2.0.0-beta.24 # Docker 29.8.x; beta.25 names versions the proxy does not serve
DOCKER_VERSION=29.8.1-beta.24
CONTAINERD_VERSION=v2.4.2
RUNC_VERSION=v1.5.2
CACHE=${STACK_LAB_CACHE:-/var/cache/stack-labs}/docker-${DOCKER_VERSION}_containerd-${CONTAINERD_VERSION}_runc-$RUNC_VERSION
BIN=$CACHE/bin

RUN=/run/stack-engine-29      # sockets, pids (tmpfs)
DATA=/var/lib/stack-engine-29 # images, containers, logs
LOCK=/tmp/stack-engine-29.lock
SOCK=unix://$RUN/docker.sock
NS=stk29
HOSTLINK=stk29-host
NET=10.239.0
CONTAINERS=10.240.0.0/15 # bip 10.240.0.1/24, networks from 10.241.0.0/16
CGROUP=stack-engine-29
FWD_PORT=2399 # the loopback forwarder, inside the namespace
IMAGES=${STACK_ENGINE_29_IMAGES-busybox:stable busybox:latest redis:7-alpine golang:1.26 caddy:2 registry:2}

say() { printf 'engine-29: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
unsupported() { say "this machine cannot host the engine: $*"; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
dk() { timeout 60 docker -H "$SOCK" "$@"; }
# main: the docker CLI on the main engine, even in a shell that evaluated
# this script's exports.
main() { if [ "${DOCKER_HOST:-}" = "$SOCK" ]; then env -u DOCKER_HOST docker "$@"; else docker "$@"; fi; }
answering() { timeout 10 docker -H "$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# ------------------------------------------------------------------ build

build() {
  local t0 tags
  if [ -x "$BIN/dockerd" ] && [ -x "$BIN/docker-proxy" ] && [ -x "$BIN/containerd" ] &&
    [ -x "$BIN/containerd-shim-runc-v2" ] && [ -x "$BIN/runc" ]; then
    return 0
  fi
  command -v "$GO" >/dev/null || unsupported "no go command to build the engine with"
  if ! dpkg -s libseccomp-dev >/dev/null 2>&1; then
    say "installing libseccomp-dev (runc's seccomp support) with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev pkg-config gcc >/dev/null ||
      unsupported "installing libseccomp-dev failed"
  fi
  mkdir -p "$BIN"
  say "building Docker $DOCKER_VERSION, containerd $CONTAINERD_VERSION, runc $RUNC_VERSION into $BIN (about 7 min on 2 cores)"
  export GOBIN="$BIN" GOFLAGS="-modcacherw"
  t0=$(now)
  if [ ! -x "$BIN/dockerd" ] || [ ! -x "$BIN/docker-proxy" ]; then
    CGO_ENABLED=0 nice -n 19 "$GO" install -trimpath \
      -tags "netgo osusergo static_build nri_no_wasm exclude_graphdriver_btrfs exclude_disk_quota" \
      -ldflags "-w -X github.com/moby/moby/v2/dockerversion.Version=$DOCKER_VERSION -X github.com/moby/moby/v2/dockerversion.GitCommit=$MOBY_VERSION" \
      "github.com/moby/moby/v2/cmd/dockerd@$MOBY_VERSION" "github.com/moby/moby/v2/cmd/docker-proxy@$MOBY_VERSION" ||
      die "building dockerd failed"
  fi
  local c=github.com/containerd/containerd/v2
  local ld="-w -X $c/version.Version=$CONTAINERD_VERSION -X $c/version.Revision=goproxy -X $c/version.Package=$c"
  tags="urfave_cli_no_docs osusergo netgo static_build"
  if [ ! -x "$BIN/containerd" ]; then
    CGO_ENABLED=0 nice -n 19 "$GO" install -trimpath -tags "$tags" -ldflags "$ld" "$c/cmd/containerd@$CONTAINERD_VERSION" ||
      die "building containerd failed"
  fi
  if [ ! -x "$BIN/containerd-shim-runc-v2" ]; then
    CGO_ENABLED=0 nice -n 19 "$GO" install -trimpath -tags "$tags no_grpc" -ldflags "$ld" "$c/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" ||
      die "building containerd-shim-runc-v2 failed"
  fi
  if [ ! -x "$BIN/runc" ]; then
    CGO_ENABLED=1 nice -n 19 "$GO" install -trimpath -buildmode=pie -tags "seccomp urfave_cli_no_docs" \
      -ldflags "-X main.gitCommit=$RUNC_VERSION-goproxy" "github.com/opencontainers/runc@$RUNC_VERSION" ||
      die "building runc failed"
  fi
  say "built in $(since "$t0")s: $(du -sh "$BIN" | cut -f1) in $BIN"
}

# ------------------------------------------------------------------ up

preflight() {
  [ "$(id -u)" = 0 ] || unsupported "it needs root (network namespaces, dockerd)"
  local c missing=""
  for c in ip nsenter unshare findmnt iptables flock timeout setsid docker "$GO"; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
  done
  [ -z "$missing" ] || unsupported "missing commands:$missing"
  if ip -4 route show | grep -v "dev $HOSTLINK" | grep -qE "^($NET\.|10\.24[01]\.)"; then
    unsupported "$NET.0/24 or $CONTAINERS is routed here already: $(ip -4 route show | grep -E "^($NET\.|10\.24[01]\.)" | head -1)"
  fi
}

setup_network() {
  ip netns add "$NS" && ip -n "$NS" link set lo up ||
    die "creating the network namespace $NS failed"
  ip link add "$HOSTLINK" type veth peer name eth0 netns "$NS" &&
    ip addr add "$NET.254/24" dev "$HOSTLINK" && ip link set "$HOSTLINK" up &&
    ip -n "$NS" addr add "$NET.1/24" dev eth0 && ip -n "$NS" link set eth0 up &&
    ip -n "$NS" route add default via "$NET.254" &&
    ip route add "$CONTAINERS" via "$NET.1" dev "$HOSTLINK" ||
    die "linking the namespace $NS to this one failed"
  in_ns sysctl -qw net.ipv4.ip_forward=1 || die "enabling forwarding in $NS failed"
  # The engine picks the host ports it publishes from its namespace's
  # ephemeral range, but its docker-proxy listens here, where every outgoing
  # connection takes a port of this machine's range: a port the engine chose
  # could be held here already ("bind: address already in use" on a restart,
  # seen in CI), and the engine's retry only sees its own namespace. Its range
  # is the one above this machine's, so the two never meet (the main engine
  # and every client here keep theirs).
  local lo hi
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
  if [ "$hi" -lt 64000 ]; then
    in_ns sysctl -qw net.ipv4.ip_local_port_range="$((hi + 1)) 65000" ||
      die "setting the published ports' range in $NS failed"
  else
    say "this machine's ephemeral ports end at $hi: the engine's published ports share them"
  fi
  # Every TCP connection to loopback inside the namespace goes to the
  # forwarder, which makes it here.
  in_ns iptables -t nat -A OUTPUT -d 127.0.0.0/8 -p tcp ! --dport "$FWD_PORT" -j REDIRECT --to-ports "$FWD_PORT" ||
    die "redirecting loopback in $NS failed (iptables nat REDIRECT)"
}

in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }

start_loopback() {
  mkdir -p "$RUN/bin"
  (cd "$ROOT" && "$GO" build -o "$RUN/bin/loopback" ./scripts/engine29/loopback) ||
    die "building the loopback forwarder (scripts/engine29/loopback) failed"
  setsid "$RUN/bin/loopback" -listen "127.0.0.1:$FWD_PORT@/run/netns/$NS" >>"$DATA/logs/loopback.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/loopback.pid"
  for _ in $(seq 1 100); do
    in_ns timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$FWD_PORT" 2>/dev/null && return 0
    sleep 0.1
  done
  die "the loopback forwarder does not answer: $(tail -3 "$DATA/logs/loopback.log")"
}

write_config() {
  mkdir -p "$RUN/etc" "$DATA/logs"
  # docker-proxy, run in this machine's network namespace: it listens on the
  # host address itself (no -use-listen-fd) and reports to dockerd on fd 3.
  cat >"$RUN/bin/docker-proxy" <<EOF
#!/bin/sh
# engine-29.sh: run the engine's docker-proxy in the machine's network namespace
for a; do shift; [ "\$a" = -use-listen-fd ] || set -- "\$@" "\$a"; done
exec 4>&-
exec nsenter --net=/proc/\$(cat $RUN/loopback.pid)/ns/net -- $BIN/docker-proxy "\$@"
EOF
  chmod +x "$RUN/bin/docker-proxy"
  cat >"$RUN/etc/containerd.toml" <<EOF
version = 3
root = "$DATA/containerd"
state = "$RUN/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.nri.v1.nri", "io.containerd.podsandbox.controller.v1.podsandbox"]
[grpc]
  address = "$RUN/containerd.sock"
[ttrpc]
  address = "$RUN/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.shim.v1.manager"]
  socket_dir = "$RUN/s"
[plugins."io.containerd.internal.v1.opt"]
  path = "$DATA/opt"
EOF
  cat >"$RUN/etc/daemon.json" <<EOF
{
  "hosts": ["$SOCK"],
  "data-root": "$DATA/docker",
  "exec-root": "$RUN/exec",
  "pidfile": "$RUN/docker.pid",
  "containerd": "$RUN/containerd.sock",
  "bip": "10.240.0.1/24",
  "default-address-pools": [{"base": "10.241.0.0/16", "size": 24}],
  "iptables": false,
  "ip6tables": false,
  "cgroup-parent": "/$CGROUP",
  "userland-proxy-path": "$RUN/bin/docker-proxy",
  "shutdown-timeout": 2,
  "log-driver": "json-file",
  "log-opts": {"max-size": "5m", "max-file": "2"}
}
EOF
}

# engine_init runs inside the engine's new mount namespace and network
# namespace: it starts containerd and becomes dockerd.
engine_init() {
  local t fs
  # Copies of this machine's container mounts and namespace handles would
  # pin them (a removed container's network would stay alive): detach them.
  findmnt -rn -o TARGET,FSTYPE | while read -r t fs; do
    t=$(printf '%b' "$t")
    case "$fs" in nsfs | overlay) echo "$t"; continue ;; esac
    case "$t" in /var/lib/docker | /var/lib/docker/*) echo "$t" ;; esac
  done | sort -ru | while read -r t; do umount -l -- "$t" 2>/dev/null || true; done
  # A resolver of its own: the machine's answers the machine at once, but
  # not this namespace, whose addresses it cannot route back to, so every
  # look-up (BuildKit asks the registry for a FROM image before it takes the
  # local one) would wait for it to time out. Nothing answers on this one:
  # a look-up fails at once, as the machine's does for a name it lacks.
  printf 'nameserver 127.0.0.1\n' >"$RUN/etc/resolv.conf"
  mount --bind "$RUN/etc/resolv.conf" /etc/resolv.conf || exit 1
  unset DOCKER_HOST DOCKER_CONTEXT DOCKER_CONFIG DOCKER_TLS_VERIFY DOCKER_CERT_PATH \
    http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY
  export PATH="$BIN:$PATH"
  "$BIN/containerd" --config "$RUN/etc/containerd.toml" >>"$DATA/logs/containerd.log" 2>&1 </dev/null &
  echo $! >"$RUN/containerd.pid"
  exec "$BIN/dockerd" --config-file "$RUN/etc/daemon.json"
}

wait_engine() {
  local t0; t0=$(date +%s)
  while [ $(($(date +%s) - t0)) -lt 60 ]; do
    answering && return 0
    kill -0 "$(cat "$RUN/launch.pid")" 2>/dev/null ||
      die "dockerd exited; the end of $DATA/logs/dockerd.log:
$(tail -n 15 "$DATA/logs/dockerd.log")"
    sleep 0.1
  done
  die "dockerd does not answer after 60s; the end of $DATA/logs/dockerd.log:
$(tail -n 15 "$DATA/logs/dockerd.log")"
}

# copy_images loads the stand-in images the main engine has and this one
# lacks or has in another build (their creation times differ: the image
# IDs do not compare, the containerd store's are manifest digests).
copy_images() {
  local img created missing=()
  for img in $IMAGES; do
    created=$(main image inspect -f '{{.Created}}' "$img" 2>/dev/null) ||
      { say "image $img is not on the main engine: not copied"; continue; }
    [ "$(dk image inspect -f '{{.Created}}' "$img" 2>/dev/null)" = "$created" ] || missing+=("$img")
  done
  [ ${#missing[@]} = 0 ] && return 0
  main save "${missing[@]}" | dk load -q >/dev/null || die "copying ${missing[*]} from the main engine failed"
}

print_env() {
  echo "export DOCKER_HOST=$SOCK"
  echo "export STACK_ENGINE_29_HOST=$SOCK"
  echo "export STACK_ENGINE_29_PID=$(cat "$RUN/docker.pid" 2>/dev/null)"
}

do_up() {
  local t0; t0=$(now)
  if health; then
    copy_images
    say "up already: $(dk version --format 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}')"
    print_env
    return 0
  fi
  if lab_exists; then say "removing an unhealthy engine 29 first"; do_down; t0=$(now); fi
  preflight
  build
  t0=$(now)
  UP_FAILED_CLEANUP=1
  mkdir -p "$RUN/bin" "$DATA/logs"
  setup_network
  start_loopback
  write_config
  setsid unshare --mount --propagation slave -- nsenter --net="/run/netns/$NS" -- \
    "$SELF" __engine >>"$DATA/logs/dockerd.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/launch.pid"
  wait_engine
  say "started in $(since "$t0")s: $(dk version --format 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}, containerd {{range .Server.Components}}{{if eq .Name "containerd"}}{{.Version}}{{end}}{{end}}')"
  t0=$(now)
  copy_images
  UP_FAILED_CLEANUP=0
  say "images copied in $(since "$t0")s"
  print_env
}

on_exit() {
  local rc=$?
  if [ "${UP_FAILED_CLEANUP:-0}" = 1 ]; then
    UP_FAILED_CLEANUP=0
    say "up failed: removing what it made"
    (do_down) || say "removing the partial engine was incomplete: run scripts/engine-29.sh down"
  fi
  exit $rc
}

# ------------------------------------------------------------------ down

# health: 0 answering, 1 partial, 3 nothing there
health() {
  [ -e "/run/netns/$NS" ] || { lab_exists && return 1; return 3; }
  kill -0 "$(cat "$RUN/loopback.pid" 2>/dev/null)" 2>/dev/null || return 1
  answering || return 1
}

lab_exists() {
  [ -e "/run/netns/$NS" ] || ip link show "$HOSTLINK" >/dev/null 2>&1 || [ -e "$RUN" ] || [ -e "$DATA" ] || [ -n "$(cgroup_dirs)" ]
}

cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do [ -d "$d" ] && echo "$d"; done
}

# lab_pids: the forwarder, every process in the namespace (dockerd,
# containerd, shims), the proxies it started here, and every container
# process (in its cgroups).
lab_pids() {
  local p d
  p=$(cat "$RUN/loopback.pid" 2>/dev/null) && [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$RUN/bin/loopback" ] && echo "$p"
  [ -e "/run/netns/$NS" ] && ip netns pids "$NS" 2>/dev/null
  for p in $(pgrep -f "^$BIN/docker-proxy " 2>/dev/null); do echo "$p"; done
  for d in $(cgroup_dirs); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done
}

do_down() {
  local t0 d left=""; t0=$(now)
  lab_exists || { say "down: nothing to remove"; return 0; }
  # SIGKILL, all at once: the engine keeps nothing worth a clean stop, and
  # its mounts live in a mount namespace that goes with its last process.
  lab_pids | xargs -r kill -KILL 2>/dev/null
  for _ in $(seq 1 100); do [ -z "$(lab_pids)" ] && break; sleep 0.1; done
  [ -z "$(lab_pids)" ] || die "down: processes still alive: $(lab_pids | xargs -r ps -o pid=,comm= -p | xargs)"
  ip route del "$CONTAINERS" 2>/dev/null
  ip link del "$HOSTLINK" 2>/dev/null
  [ -e "/run/netns/$NS" ] && { ip netns del "$NS" || say "down: removing network namespace $NS failed"; }
  for d in $(cgroup_dirs); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
  if findmnt -rn -o TARGET | grep -qE "^($RUN|$DATA)/"; then
    findmnt -rn -o TARGET | grep -E "^($RUN|$DATA)/" | sort -r | xargs -r -n1 umount -l
  fi
  rm -rf --one-file-system "$RUN" "$DATA"
  [ ! -e "/run/netns/$NS" ] || left="$left namespace $NS;"
  ! ip link show "$HOSTLINK" >/dev/null 2>&1 || left="$left link $HOSTLINK;"
  [ -z "$(cgroup_dirs)" ] || left="$left cgroups: $(cgroup_dirs | xargs);"
  [ ! -e "$RUN" ] && [ ! -e "$DATA" ] || left="$left $RUN or $DATA;"
  [ -z "$left" ] || die "down: left behind:$left"
  say "down: removed in $(since "$t0")s"
}

# ------------------------------------------------------------------ main

lock() {
  exec 9>"$LOCK"
  flock -w 900 9 || die "another engine-29.sh has held $LOCK for 15 minutes"
}

case "${1:-}" in
  up)
    lock
    trap on_exit EXIT
    trap 'exit 130' INT TERM HUP
    do_up
    ;;
  build) lock; build; say "binaries in $BIN ($(du -sh "$BIN" | cut -f1))" ;;
  down) lock; do_down ;;
  env) health || die "engine 29 is not up (scripts/engine-29.sh up)"; print_env ;;
  status)
    health; rc=$?
    case $rc in
      0) echo "engine-29: up, $(dk version --format 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}') at $SOCK" ;;
      1) echo "engine-29: partial or not answering (scripts/engine-29.sh down removes it)" ;;
      *) echo "engine-29: not up" ;;
    esac
    exit $rc
    ;;
  __engine) engine_init ;;
  "" | -h | --help | help) sed -n '2,39p' "$SELF" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command ${1:-} (scripts/engine-29.sh help lists them)" ;;
esac
