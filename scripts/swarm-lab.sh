#!/usr/bin/env bash
# swarm-lab.sh: a real multi-node Docker Swarm on this one Linux machine, for
# the Swarm tests (internal/e2e.Swarm starts it when needed) and for trying
# stack on a cluster by hand.
#
# Every node is its own dockerd, with its own containerd, in its own network,
# mount and UTS namespace (stklab-nodeI, address 10.235.0.1I, hostname
# stklab-nodeI), joined to the others over a bridge in a hub namespace
# (stklab-hub, 10.235.0.1). Node 1 is the manager. A veth pair gives this
# machine's own namespace the address 10.235.0.254 on the bridge (stklab-host),
# so a test reaches a host-mode published port at a node's address. One
# registry process answers on 127.0.0.1:5235 both here and inside every node:
# the main engine pushes to it and every node pulls from it by the same name,
# as the plain-HTTP registry all engines accept on loopback. The same
# images are served on 127.0.0.1:5236 only to HTTP basic authentication
# (STACK_SWARM_LAB_PRIVATE_AUTH, user:password): a private registry, which a
# node pulls from only with the credentials its service was given.
#
# The main engine (/var/run/docker.sock) is never reconfigured: up copies the
# images in STACK_SWARM_LAB_IMAGES (default busybox:stable) into the lab
# registry with docker tag/push, then removes the tag again.
#
#   scripts/swarm-lab.sh up [N]        N nodes (1-9, default 3); prints the env
#                                      lines: eval "$(scripts/swarm-lab.sh up)"
#   scripts/swarm-lab.sh env           print them again
#   scripts/swarm-lab.sh status        exit 0 up and healthy, 1 partial, 3 not up
#   scripts/swarm-lab.sh down          remove everything the lab made
#   scripts/swarm-lab.sh docker I ARGS the docker CLI against node I
#
# up reuses a healthy lab of N nodes and removes any other first, and removes
# what it made when it fails. Exit status 2: this machine cannot host the lab
# (not root, a missing tool or kernel feature).
#
# Measured on the kernels we test on: there is no IPVS, so service VIPs and
# the ingress routing mesh do not work (use endpoint_mode: dnsrr and
# host-mode ports), and encrypted overlay networks do not work either.
# Addresses used: 10.235.0.0/24 on the bridge and this namespace's stklab-host;
# inside the nodes only: 10.236.I.0/24 (docker0), 10.237.0.0/16 (local
# networks), 10.238.0.0/16 (overlay networks).
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
ROOT=$(dirname "$HERE")
BASE=/tmp/stack-swarm-lab
LOCK=/tmp/stack-swarm-lab.lock
CGROUP=stack-swarm-lab
NET=10.235.0
HUB=stklab-hub
BRIDGE=stklab0
HOSTLINK=stklab-host
PORT=5235
REGISTRY=127.0.0.1:$PORT
PRIVATE_PORT=5236
PRIVATE=127.0.0.1:$PRIVATE_PORT
PRIVATE_AUTH=stacklab:swarm-lab-password
IMAGES=${STACK_SWARM_LAB_IMAGES-busybox:stable}
GO=${GO:-go}

say() { printf 'swarm-lab: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
unsupported() { say "this machine cannot host the lab: $*"; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

node_ns() { echo "stklab-node$1"; }
node_addr() { echo "$NET.1$1"; }
node_dir() { echo "$BASE/node$1"; }
node_sock() { echo "unix://$BASE/node$1/docker.sock"; }
dk() { local i=$1; shift; timeout 60 docker -H "$(node_sock "$i")" "$@"; }
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }
lab_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^stklab-(hub|node[0-9])$" || true; }
nodes() { cat "$BASE/state/nodes" 2>/dev/null; }
answers() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# ------------------------------------------------------------------ checks

preflight() {
  [ "$(id -u)" = 0 ] || unsupported "it needs root (network namespaces, dockerd)"
  local c missing=""
  for c in ip nsenter unshare findmnt mount umount flock timeout setsid dockerd containerd runc docker "$GO"; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
  done
  [ -z "$missing" ] || unsupported "missing commands:$missing"
  if ip -4 route show | grep -v "dev $HOSTLINK" | grep -q "^$NET\."; then
    unsupported "$NET.0/24 is routed here already: $(ip -4 route show | grep "^$NET\." | head -1)"
  fi
  if answers 127.0.0.1 $PORT; then unsupported "something else listens on $REGISTRY"; fi
  if answers 127.0.0.1 $PRIVATE_PORT; then unsupported "something else listens on $PRIVATE"; fi
  STORAGE=vfs
  if grep -qw overlay /proc/filesystems; then
    local t="$BASE/.overlay-probe"
    mkdir -p "$t"/{l,u,w,m}
    unshare --mount --propagation private -- mount -t overlay overlay \
      -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null && STORAGE=overlay2
    rm -rf --one-file-system "$t"
  fi
  [ "$STORAGE" = overlay2 ] || say "overlay mounts fail under $BASE: the nodes use the slow vfs storage driver"
}

# health: 0 healthy, 1 partial, 3 nothing there
health() {
  local n i
  n=$(nodes) || { lab_exists && return 1; return 3; }
  [ -e "/run/netns/$HUB" ] && answers 127.0.0.1 $PORT && answers 127.0.0.1 $PRIVATE_PORT || return 1
  for i in $(seq 1 "$n"); do
    [ -e "/run/netns/$(node_ns "$i")" ] || return 1
    [ "$(timeout 10 docker -H "$(node_sock "$i")" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ] || return 1
  done
  [ "$(dk 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$')" = "$n" ]
}

lab_exists() {
  [ -n "$(lab_netns)" ] || ip link show "$HOSTLINK" >/dev/null 2>&1 || [ -e "$BASE" ] || [ -n "$(cgroup_dirs)" ]
}

# ------------------------------------------------------------------ up

setup_network() { # n
  local i ns
  ip netns add "$HUB" && ip -n "$HUB" link set lo up &&
    ip -n "$HUB" link add "$BRIDGE" type bridge &&
    ip -n "$HUB" addr add "$NET.1/24" dev "$BRIDGE" &&
    ip -n "$HUB" link set "$BRIDGE" up || die "creating the hub namespace and bridge failed"
  # overlay networks are VXLAN: find out now rather than at the first service
  ip -n "$HUB" link add stklab-vx type vxlan id 42 dstport 4789 dev "$BRIDGE" 2>/dev/null ||
    unsupported "the kernel has no VXLAN, which Swarm overlay networks need"
  ip -n "$HUB" link del stklab-vx
  ip link add "$HOSTLINK" type veth peer name stklab-hostp netns "$HUB" &&
    ip -n "$HUB" link set stklab-hostp master "$BRIDGE" up &&
    ip addr add "$NET.254/24" dev "$HOSTLINK" && ip link set "$HOSTLINK" up ||
    die "linking this namespace to the bridge failed"
  for i in $(seq 1 "$1"); do
    ns=$(node_ns "$i")
    ip netns add "$ns" && ip -n "$ns" link set lo up &&
      ip link add "stklab-n$i" netns "$HUB" type veth peer name eth0 netns "$ns" &&
      ip -n "$HUB" link set "stklab-n$i" master "$BRIDGE" up &&
      ip -n "$ns" addr add "$(node_addr "$i")/24" dev eth0 && ip -n "$ns" link set eth0 up ||
      die "creating the namespace of node $i failed"
  done
}

start_registry() { # n
  local i args=(-dir "$BASE/registry/blobs" -listen "$REGISTRY" -listen "$NET.1:$PORT@/run/netns/$HUB"
    -credentials "$PRIVATE_AUTH" -private "$PRIVATE")
  for i in $(seq 1 "$1"); do
    args+=(-listen "$REGISTRY@/run/netns/$(node_ns "$i")" -private "$PRIVATE@/run/netns/$(node_ns "$i")")
  done
  mkdir -p "$BASE/bin" "$BASE/registry"
  (cd "$ROOT" && "$GO" build -o "$BASE/bin/registry" ./scripts/swarmlab/registry) ||
    die "building the lab registry (scripts/swarmlab/registry) failed"
  setsid "$BASE/bin/registry" "${args[@]}" >>"$BASE/registry/log" 2>&1 </dev/null 9>&- &
  echo $! >"$BASE/registry/pid"
  for _ in $(seq 1 100); do answers 127.0.0.1 $PORT && answers 127.0.0.1 $PRIVATE_PORT && return 0; sleep 0.1; done
  die "the lab registry does not answer on $REGISTRY: $(tail -3 "$BASE/registry/log")"
}

write_daemon_json() { # i
  local i=$1 d; d=$(node_dir "$1")
  mkdir -p "$d"
  cat >"$d/daemon.json" <<EOF
{
  "data-root": "$d/data",
  "exec-root": "$d/exec",
  "pidfile": "$d/docker.pid",
  "hosts": ["$(node_sock "$i")"],
  "storage-driver": "$STORAGE",
  "bip": "10.236.$i.1/24",
  "default-address-pools": [{"base": "10.237.0.0/16", "size": 24}],
  "dns": ["$NET.1"],
  "cgroup-parent": "/$CGROUP/node$i",
  "swarm-default-advertise-addr": "$(node_addr "$i")",
  "shutdown-timeout": 2,
  "log-level": "warn",
  "log-driver": "json-file",
  "log-opts": {"max-size": "5m", "max-file": "2"}
}
EOF
}

# node_init runs inside node i's new mount and UTS namespaces (and its network
# namespace) and becomes its dockerd.
node_init() { # i
  local i=$1 t fs
  hostname "stklab-node$i"
  # The new mount namespace holds copies of this machine's mounts, among them
  # the main engine's container filesystems and network namespace handles:
  # copies pin those (a removed container's network would stay alive), so
  # detach them. Slave propagation keeps all of this out of the root
  # namespace, and keeps what the node mounts in here.
  findmnt -rn -o TARGET,FSTYPE | while read -r t fs; do
    t=$(printf '%b' "$t")
    case "$fs" in nsfs | overlay) echo "$t"; continue ;; esac
    case "$t" in /run/* | /var/run/* | /var/lib/docker | /var/lib/docker/*) echo "$t" ;; esac
  done | sort -ru | while read -r t; do umount -l -- "$t" 2>/dev/null || true; done
  # A /run of its own: no other containerd to find, shim sockets and plugin
  # directories private to this node. An /etc/docker of its own: a key.json
  # of its own, and nothing written to the real one.
  mount -t tmpfs -o mode=0755 stklab-run /run || exit 1
  if [ -d /etc/docker ]; then mount -t tmpfs -o mode=0755 stklab-etc /etc/docker || exit 1; fi
  unset DOCKER_HOST DOCKER_CONTEXT DOCKER_CONFIG DOCKER_TLS_VERIFY DOCKER_CERT_PATH \
    http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY
  exec dockerd --config-file "$(node_dir "$i")/daemon.json"
}

start_node() { # i
  local i=$1 d; d=$(node_dir "$1")
  write_daemon_json "$i"
  setsid unshare --mount --uts --propagation slave -- nsenter --net="/run/netns/$(node_ns "$i")" -- \
    "$SELF" __node "$i" >>"$d/dockerd.log" 2>&1 </dev/null 9>&- &
  echo $! >"$d/launch.pid"
}

wait_node() { # i
  local i=$1 d t0; d=$(node_dir "$1"); t0=$(date +%s)
  while [ $(($(date +%s) - t0)) -lt 60 ]; do
    timeout 5 docker -H "$(node_sock "$i")" version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$d/launch.pid")" 2>/dev/null ||
      die "the dockerd of node $i exited; the end of $d/dockerd.log:
$(tail -n 15 "$d/dockerd.log")"
    sleep 0.2
  done
  die "the dockerd of node $i does not answer after 60s; the end of $d/dockerd.log:
$(tail -n 15 "$d/dockerd.log")"
}

form_swarm() { # n
  local n=$1 i token pids=() t0
  dk 1 swarm init --advertise-addr "$(node_addr 1)" --listen-addr "$(node_addr 1):2377" \
    --default-addr-pool 10.238.0.0/16 --default-addr-pool-mask-length 24 >/dev/null ||
    die "swarm init on node 1 failed"
  token=$(dk 1 swarm join-token -q worker) || die "reading the worker join token failed"
  for i in $(seq 2 "$n"); do
    dk "$i" swarm join --token "$token" --advertise-addr "$(node_addr "$i")" \
      --listen-addr "$(node_addr "$i"):2377" "$(node_addr 1):2377" >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || die "a node failed to join the swarm"; done
  t0=$(date +%s)
  until [ "$(dk 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$')" = "$n" ]; do
    [ $(($(date +%s) - t0)) -lt 60 ] || die "not all $n nodes are Ready after 60s: $(dk 1 node ls 2>&1)"
    sleep 0.2
  done
  for i in $(seq 1 "$n"); do
    dk 1 node update --label-add "stack.lab.node=$i" "$(dk "$i" info --format '{{.Swarm.NodeID}}')" >/dev/null ||
      die "labelling node $i failed"
  done
}

# seed_images copies images from the main engine into the lab registry, under
# the same repository and tag; state/images maps each to its digest reference.
seed_images() {
  local img ref digest
  : >"$BASE/state/images"
  for img in $IMAGES; do
    docker image inspect "$img" >/dev/null 2>&1 || { say "image $img is not on the main engine: not copied"; continue; }
    ref="$REGISTRY/${img#docker.io/}"
    docker tag "$img" "$ref" || die "tagging $img failed"
    digest=$(docker push "$ref" | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p')
    docker rmi "$ref" >/dev/null
    [ -n "$digest" ] || die "pushing $ref failed"
    echo "$img ${ref%:*}@$digest" >>"$BASE/state/images"
  done
}

print_env() {
  local n i
  n=$(nodes) || die "the lab is not up (scripts/swarm-lab.sh up)"
  echo "export DOCKER_HOST=$(node_sock 1)"
  echo "export STACK_SWARM_LAB_HOST=$(node_sock 1)"
  echo "export STACK_SWARM_LAB_REGISTRY=$REGISTRY"
  echo "export STACK_SWARM_LAB_PRIVATE_REGISTRY=$PRIVATE"
  echo "export STACK_SWARM_LAB_PRIVATE_AUTH=$PRIVATE_AUTH"
  echo "export STACK_SWARM_LAB_NODES=$n"
  for i in $(seq 1 "$n"); do
    echo "export STACK_SWARM_LAB_NODE${i}_HOST=$(node_sock "$i")"
    echo "export STACK_SWARM_LAB_NODE${i}_ADDR=$(node_addr "$i")"
  done
  # where stack stats finds each node's engine (engine/swarm/nodes.go)
  local hosts=""
  for i in $(seq 1 "$n"); do hosts="$hosts${hosts:+,}stklab-node$i=$(node_sock "$i")"; done
  echo "export STACK_SWARM_NODE_HOSTS=$hosts"
}

do_up() { # n
  local n=$1 t0 i; t0=$(now)
  if [ "$(nodes)" = "$n" ] && health; then
    say "up already, $n nodes"
    print_env
    return 0
  fi
  if lab_exists; then say "removing a lab of another size, or an unhealthy one"; do_down; t0=$(now); fi
  UP_FAILED_CLEANUP=1
  preflight
  mkdir -p "$BASE/state"
  setup_network "$n"
  start_registry "$n"
  for i in $(seq 1 "$n"); do start_node "$i"; done
  for i in $(seq 1 "$n"); do wait_node "$i"; done
  form_swarm "$n"
  seed_images
  echo "$n" >"$BASE/state/nodes"
  UP_FAILED_CLEANUP=0
  say "up: $n nodes in $(since "$t0")s (storage driver $STORAGE)"
  print_env
}

on_exit() {
  local rc=$?
  if [ "${UP_FAILED_CLEANUP:-0}" = 1 ]; then
    UP_FAILED_CLEANUP=0
    say "up failed: removing what it made"
    (do_down) || say "removing the partial lab was incomplete: run scripts/swarm-lab.sh down"
  fi
  exit $rc
}

# ------------------------------------------------------------------ down

cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do [ -d "$d" ] && echo "$d"; done
}

# lab_pids: the registry, every process in a lab network namespace (dockerd,
# containerd, shims) and every container process (in the lab's cgroups).
lab_pids() {
  local ns p d
  p=$(cat "$BASE/registry/pid" 2>/dev/null) &&
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$BASE/bin/registry" ] && echo "$p"
  for ns in $(lab_netns); do ip netns pids "$ns" 2>/dev/null; done
  for d in $(cgroup_dirs); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done
}

wait_gone() { # seconds
  local t0; t0=$(now)
  while [ -n "$(lab_pids)" ]; do
    awk -v a="$t0" -v b="$(now)" -v l="$1" 'BEGIN { exit !(b - a >= l) }' && return 1
    sleep 0.1
  done
}

do_down() {
  local t0 ns d; t0=$(now)
  lab_exists || { say "down: nothing to remove"; return 0; }
  # SIGKILL, all at once: a lab keeps nothing worth a clean stop, and all a
  # node has (mounts, network state, iptables rules) lives in namespaces of
  # its own that go with its last process; a graceful stop takes seconds.
  lab_pids | xargs -r kill -KILL 2>/dev/null
  wait_gone 10 || die "down: processes still alive: $(lab_pids | xargs -r ps -o pid=,comm= -p | xargs)"
  ip link del "$HOSTLINK" 2>/dev/null
  for ns in $(lab_netns); do ip netns del "$ns" || say "down: removing network namespace $ns failed"; done
  for d in $(cgroup_dirs); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
  # Node mounts live in the nodes' own mount namespaces, gone with them.
  if findmnt -rn -o TARGET | grep -q "^$BASE/"; then die "down: mounts left under $BASE: $(findmnt -rn -o TARGET | grep "^$BASE/" | xargs)"; fi
  rm -rf --one-file-system "$BASE"
  local left=""
  [ -z "$(lab_netns)" ] || left="$left namespaces: $(lab_netns | xargs);"
  ! ip link show "$HOSTLINK" >/dev/null 2>&1 || left="$left link $HOSTLINK;"
  [ -z "$(cgroup_dirs)" ] || left="$left cgroups: $(cgroup_dirs | xargs);"
  [ ! -e "$BASE" ] || left="$left $BASE;"
  [ -z "$left" ] || die "down: left behind:$left"
  say "down: removed in $(since "$t0")s"
}

# ------------------------------------------------------------------ main

lock() {
  exec 9>"$LOCK"
  flock -w 600 9 || die "another swarm-lab.sh has held $LOCK for 10 minutes"
}

case "${1:-}" in
  up)
    n=${2:-3}
    [[ "$n" =~ ^[1-9]$ ]] || die "up takes a node count from 1 to 9, not $n"
    lock
    trap on_exit EXIT
    trap 'exit 130' INT TERM HUP
    do_up "$n"
    ;;
  down) lock; do_down ;;
  env) print_env ;;
  status)
    health; rc=$?
    case $rc in
      0) echo "swarm-lab: up and healthy, $(nodes) nodes, registry $REGISTRY" ;;
      1) echo "swarm-lab: partial or unhealthy (scripts/swarm-lab.sh down removes it)" ;;
      *) echo "swarm-lab: not up" ;;
    esac
    [ $rc != 0 ] || dk 1 node ls
    exit $rc
    ;;
  docker) i=${2:?node number}; shift 2; exec docker -H "$(node_sock "$i")" "$@" ;;
  __node) node_init "$2" ;;
  "" | -h | --help | help) sed -n '2,36p' "$SELF" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command ${1:-} (scripts/swarm-lab.sh help lists them)" ;;
esac
