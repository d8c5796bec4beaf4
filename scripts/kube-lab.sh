#!/usr/bin/env bash
# kube-lab.sh: a real one-node Kubernetes (v1.34) on this one Linux machine,
# for the Kubernetes tests (internal/e2e.Kube starts it when needed) and for
# trying stack on a cluster by hand.
#
# The node lives in a network, mount and UTS namespace of its own
# (stkube-node, hostname kubelab-node, address 10.250.0.2): containerd (a
# second instance, not Docker's), etcd, kube-apiserver, controller-manager,
# scheduler, kubelet, kube-proxy, the CNI bridge and every pod, so the
# iptables chains kube-proxy and the CNI plugins write never touch this
# machine's own (the main Docker engine's). A veth pair gives this namespace
# 10.250.0.1 (stkube-host): the API server answers at
# https://10.250.0.2:6443 and NodePorts at 10.250.0.2. One registry process
# answers on 127.0.0.1:5240 both here and inside the node: the main engine
# pushes to it (Docker takes loopback registries as plain HTTP) and the
# node's containerd pulls from it by the same name. Blobs live on disk under
# the lab's directory; manifests in the registry's memory, for the lab's
# lifetime.
#
#   scripts/kube-lab.sh up       start it (reuses a healthy one); prints the
#                                env lines: eval "$(scripts/kube-lab.sh up)"
#                                KUBECONFIG, STACK_KUBE_NODE, STACK_KUBE_REGISTRY
#   scripts/kube-lab.sh env      print them again
#   scripts/kube-lab.sh status   exit 0 up and healthy, 1 partial, 3 not up
#   scripts/kube-lab.sh down     remove everything the lab made
#   scripts/kube-lab.sh kubectl ARGS   kubectl v1.34 against the lab
#   scripts/kube-lab.sh build    only build (or find) the cached binaries
#
# up removes what it made when it fails. Exit status 2: this machine cannot
# host the lab (not root, a missing tool or kernel feature).
#
# Binaries: Kubernetes v1.34.4 (1.35's kubelet refuses cgroup v1) and
# CoreDNS v1.12.1, built from the Go module proxy once per machine into
# $STACK_LAB_CACHE/kube-v1.34.4 (default /var/cache/stack-labs, outside
# the clone, so every clone shares them), with a Go build cache of their
# own in $STACK_LAB_CACHE/kube-gocache; the lab's own small programs
# (scripts/kubelab: pause, provisioner) beside them, keyed by a hash of
# their source. etcd, containerd, runc and the CNI plugins are Debian's
# (installed with apt-get when missing). Storage: the default StorageClass
# "standard" (WaitForFirstConsumer, reclaim Delete) provisions a hostPath
# volume per claim under the lab's directory. No LoadBalancer, one node.
#
# Measured on this project's 2-core machine (2026-12-06) while other
# builds and tests kept its load average at 10-30: the cold build took
# 58 min for Kubernetes and 33 min for CoreDNS beside it (about 12 min in
# all on an idle machine); with the Go build cache warm but no binaries,
# 23 s. A start with the binaries built (from down): 20-51 s to node Ready
# and CoreDNS ready (about 15 s idle); down: 1-2 s. Cache: binaries
# 584 MB, Go build cache 4.3 GB (removing it costs only a slower rebuild
# after a change to scripts/kubelab). RSS while up: about 830 MiB.
#
# The kubelet sets six kernel sysctls when it starts (vm.overcommit_memory,
# vm.panic_on_oom, kernel.panic, kernel.panic_on_oops, kernel.keys.root_*):
# up puts back the values it found once the node is Ready, and down again.
# Addresses (clear of the Swarm lab's 10.235-10.238 and Docker's pools):
# 10.250.0.0/24 on the link (here and in the node); inside the
# node only: 10.244.0.0/24 pods, 10.96.0.0/16 services (DNS 10.96.0.10).
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
ROOT=$(dirname "$HERE")
LAB="$HERE/kubelab"
BASE=/tmp/stack-kube-lab
LOCK=/tmp/stack-kube-lab.lock
TESTS_LOCK=/tmp/stack-kube-lab.tests.lock # internal/e2e.Kube: shared while a test runs
CACHE=${STACK_LAB_CACHE:-/var/cache/stack-labs}
KUBE_VERSION=v1.34.4
COREDNS_VERSION=v1.12.1
KUBE_CMDS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl"
KBIN="$CACHE/kube-$KUBE_VERSION"
NS=stkube-node
HOSTLINK=stkube-host
NET=10.250.0
NODE_ADDR=$NET.2
NODE=kubelab-node
POD_CIDR=10.244.0.0/24
SVC_CIDR=10.96.0.0/16
DNS_ADDR=10.96.0.10
API="https://$NODE_ADDR:6443"
CGROUP=stack-kube-lab
PORT=5240
REGISTRY=127.0.0.1:$PORT
PROVISIONER=kube-lab.stack/hostpath
SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"
APT_PACKAGES="etcd-server containerd runc containernetworking-plugins iptables conntrack curl openssl"
GO=${GO:-go}

say() { printf 'kube-lab: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
unsupported() { say "this machine cannot host the lab: $*"; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
answers() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
node_pid() { cat "$BASE/state/node.pid" 2>/dev/null; }
in_node() { nsenter --target "$(node_pid)" --mount --uts --net -- "$@"; }
kc() { timeout 60 "$KBIN/kubectl" --kubeconfig "$BASE/kubeconfig" "$@"; }
lab_bin() {
  local h
  h=$(cat "$LAB/go.mod" "$LAB/go.sum" "$LAB"/pause/*.go "$LAB"/provisioner/*.go | sha256sum | cut -c1-12)
  echo "$KBIN/lab-$h"
}

# ------------------------------------------------------------------ checks

preflight() {
  [ "$(id -u)" = 0 ] || unsupported "it needs root (namespaces, containerd, the kubelet)"
  local c missing=""
  need() { for c in ip nsenter unshare findmnt mount umount flock timeout setsid sysctl iptables containerd runc etcd curl openssl sha256sum; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
    [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/portmap ] || missing="$missing CNI-plugins"; }
  need
  if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing with apt-get:$missing ($APT_PACKAGES)"
    (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends $APT_PACKAGES) >&2 ||
      unsupported "apt-get install $APT_PACKAGES failed"
    missing=""; need
  fi
  [ -z "$missing" ] || unsupported "missing commands:$missing (Debian: apt-get install $APT_PACKAGES)"
  command -v "$GO" >/dev/null 2>&1 || unsupported "no Go toolchain ($GO) to build Kubernetes with"
  if ip -4 route show | grep -v "dev $HOSTLINK" | grep -q "^$NET\."; then
    unsupported "$NET.0/24 is routed here already: $(ip -4 route show | grep "^$NET\." | head -1)"
  fi
  if answers 127.0.0.1 $PORT; then unsupported "something else listens on $REGISTRY"; fi
  grep -qw overlay /proc/filesystems || unsupported "no overlay filesystem (containerd's snapshotter)"
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || unsupported "no cgroup filesystem at /sys/fs/cgroup"
}

# health: 0 healthy, 1 partial, 3 nothing there
health() {
  lab_exists || return 3
  [ -f "$BASE/state/up" ] && kill -0 "$(node_pid)" 2>/dev/null && answers 127.0.0.1 $PORT || return 1
  local n
  for n in containerd etcd apiserver controller-manager scheduler kubelet kube-proxy provisioner registry; do
    kill -0 "$(cat "$BASE/state/$n.pid" 2>/dev/null)" 2>/dev/null || return 1
  done
  [ "$(kc get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

lab_exists() {
  [ -e "/run/netns/$NS" ] || ip link show "$HOSTLINK" >/dev/null 2>&1 || [ -e "$BASE" ] || [ -n "$(cgroup_dirs)" ]
}

# ------------------------------------------------------------------ build

# build finds the Kubernetes and CoreDNS binaries in the cache, or builds
# them there from the Go module proxy (about 10 minutes on 2 cores); then
# the lab's own programs, keyed by their source.
build() {
  mkdir -p "$CACHE" || unsupported "cannot create $CACHE"
  exec 8>"$CACHE/kube-$KUBE_VERSION.lock"
  flock -w 3600 8 || die "another build has held $CACHE/kube-$KUBE_VERSION.lock for an hour"
  (build_locked) || exit 1
  exec 8>&-
}

build_locked() {
  local t0 tmp="$KBIN.build" ld c pkgs=() lb
  export GOCACHE="$CACHE/kube-gocache" CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
  if [ ! -f "$KBIN/.complete" ]; then
    t0=$(now)
    say "building Kubernetes $KUBE_VERSION and CoreDNS $COREDNS_VERSION from the Go module proxy into $KBIN (once per machine: 10 to 30 minutes on 2 cores)"
    mkdir -p "$tmp"
    ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1"
    ld="$ld -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/component-base/version.gitTreeState=clean"
    ld="$ld -X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
    for c in $KUBE_CMDS; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    (cd "$LAB" && nice -n 10 "$GO" build -mod=readonly -trimpath -ldflags "$ld" -o "$tmp/" "${pkgs[@]}") >&2 ||
      die "building Kubernetes failed"
    GOBIN="$tmp" nice -n 10 "$GO" install -trimpath -ldflags '-s -w' "github.com/coredns/coredns@$COREDNS_VERSION" >&2 ||
      die "building CoreDNS failed"
    touch "$tmp/.complete"
    rm -rf "$KBIN" && mv "$tmp" "$KBIN" || die "moving the binaries to $KBIN failed"
    say "built in $(since "$t0")s"
  fi
  lb=$(lab_bin)
  if [ ! -f "$lb/.complete" ]; then
    rm -rf "$lb.build" && mkdir -p "$lb.build"
    (cd "$LAB" && nice -n 10 "$GO" build -mod=readonly -trimpath -ldflags '-s -w' -o "$lb.build/" ./pause ./provisioner) >&2 ||
      die "building scripts/kubelab (pause, provisioner) failed"
    touch "$lb.build/.complete"
    rm -rf "$lb" && mv "$lb.build" "$lb" || die "moving the lab's programs to $lb failed"
    find "$KBIN" -maxdepth 1 -name 'lab-*' ! -path "$lb" -exec rm -rf {} +
  fi
}

# ------------------------------------------------------------------ up

gen_pki() {
  local p="$BASE/pki"
  mkdir -p "$p"
  key() { openssl ecparam -name prime256v1 -genkey -noout -out "$p/$1.key" 2>/dev/null; }
  cert() { # name subject extendedKeyUsage [subjectAltName]
    key "$1"
    { printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$3"
      [ -z "${4:-}" ] || echo "subjectAltName=$4"; } >"$p/$1.ext"
    openssl req -new -key "$p/$1.key" -subj "$2" 2>/dev/null |
      openssl x509 -req -CA "$p/ca.crt" -CAkey "$p/ca.key" -set_serial "0x$(openssl rand -hex 8)" -days 3650 \
        -extfile "$p/$1.ext" -out "$p/$1.crt" 2>/dev/null
  }
  key ca && openssl req -x509 -new -key "$p/ca.key" -subj /CN=stack-kube-lab-ca -days 3650 -out "$p/ca.crt" 2>/dev/null &&
    key sa && openssl ec -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null &&
    cert apiserver /CN=kube-apiserver serverAuth \
      "DNS:localhost,DNS:$NODE,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1,IP:$NODE_ADDR" &&
    cert admin /O=system:masters/CN=kube-lab-admin clientAuth &&
    cert kubelet "/O=system:nodes/CN=system:node:$NODE" clientAuth &&
    cert kubelet-serving "/CN=$NODE" serverAuth "DNS:$NODE,DNS:localhost,IP:127.0.0.1,IP:$NODE_ADDR" ||
    die "making the lab's certificates with openssl failed"
  kubeconfig admin >"$BASE/kubeconfig" && kubeconfig kubelet >"$BASE/kubelet.kubeconfig" || die "writing kubeconfigs failed"
}

kubeconfig() { # client certificate name
  local p="$BASE/pki"
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kube-lab
  cluster:
    server: $API
    certificate-authority-data: $(base64 -w0 "$p/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$p/$1.crt")
    client-key-data: $(base64 -w0 "$p/$1.key")
contexts:
- name: kube-lab
  context: {cluster: kube-lab, user: $1}
current-context: kube-lab
EOF
}

write_configs() {
  local p="$BASE/pki" c="$BASE/containerd"
  mkdir -p "$c/certs.d/$REGISTRY" "$BASE/cni/net.d" "$BASE/node/var-lib" "$BASE/node/var-log" "$BASE/logs" "$BASE/volumes"
  cat >"$c/config.toml" <<EOF
version = 2
root = "$c/root"
state = "$c/state"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[debug]
  address = ""
  level = "warn"
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$REGISTRY/kube-lab/pause:3.10"
    enable_selinux = false
    disable_apparmor = true
    # root here lacks CAP_SYS_RESOURCE: the -998 the kubelet asks for the
    # pause container fails in runc ("can't get final child's PID from pipe")
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    stream_server_address = "127.0.0.1"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$c/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$BASE/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "$c/certs.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "$c/opt"
EOF
  cat >"$c/certs.d/$REGISTRY/hosts.toml" <<EOF
server = "http://$REGISTRY"
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
  cat >"$BASE/cni/net.d/10-kube-lab.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kube-lab",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$BASE/cni/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # no upstream name server: nothing resolves beyond the cluster's names
  echo "# kube-lab: no upstream DNS" >"$BASE/node/resolv.conf"
  cat >"$BASE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $p/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $p/kubelet-serving.crt
tlsPrivateKeyFile: $p/kubelet-serving.key
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
containerRuntimeEndpoint: unix://$c/containerd.sock
imageServiceEndpoint: unix://$c/containerd.sock
failSwapOn: false
failCgroupV1: false
clusterDomain: cluster.local
clusterDNS: [$DNS_ADDR]
resolvConf: $BASE/node/resolv.conf
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
protectKernelDefaults: false
maxPods: 80
podLogsDir: $BASE/node/pod-logs
volumePluginDir: $BASE/node/volume-plugins
EOF
  cat >"$BASE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $BASE/kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
nodePortAddresses: ["primary"]
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
EOF
}

setup_network() {
  ip netns add "$NS" && ip -n "$NS" link set lo up &&
    ip link add "$HOSTLINK" type veth peer name eth0 netns "$NS" &&
    ip addr add "$NET.1/24" dev "$HOSTLINK" && ip link set "$HOSTLINK" up &&
    ip -n "$NS" addr add "$NODE_ADDR/24" dev eth0 && ip -n "$NS" link set eth0 up &&
    ip -n "$NS" route add default via "$NET.1" &&
    ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 ||
    die "creating the node's network namespace $NS failed"
}

# cgroup_setup makes the cgroup the kubelet puts pods under (cgroupRoot)
# in every hierarchy; down removes it.
cgroup_setup() {
  local d
  for d in /sys/fs/cgroup/*/; do
    d=${d%/}
    [ -L "$d" ] && continue
    mkdir -p "$d/$CGROUP" || die "creating cgroup $d/$CGROUP failed"
    if [ -f "$d/cpuset.cpus" ]; then
      cat "$d/cpuset.cpus" >"$d/$CGROUP/cpuset.cpus" && cat "$d/cpuset.mems" >"$d/$CGROUP/cpuset.mems"
    fi
  done
  [ -f /sys/fs/cgroup/cgroup.controllers ] && mkdir -p "/sys/fs/cgroup/$CGROUP"
  return 0
}

# node_init runs in the node's new mount and UTS namespaces (and its network
# namespace) and stays there as the process others enter.
node_init() {
  local t fs
  hostname "$NODE"
  # The copies of this machine's mounts pin what they hold (the main
  # engine's container filesystems and network namespaces): detach them.
  # Slave propagation keeps the node's mounts (pod volumes, container
  # filesystems, pod network namespaces) in here, gone with the node.
  findmnt -rn -o TARGET,FSTYPE | while read -r t fs; do
    t=$(printf '%b' "$t")
    case "$fs" in nsfs | overlay) echo "$t"; continue ;; esac
    case "$t" in /run/* | /var/run/* | /var/lib/docker | /var/lib/docker/*) echo "$t" ;; esac
  done | sort -ru | while read -r t; do umount -l -- "$t" 2>/dev/null || true; done
  # A /run of its own (shim sockets, the xtables lock), and a /var/lib and
  # /var/log of its own for what the kubelet and the CNI library write
  # there regardless of their settings (/var/lib/kubelet/device-plugins,
  # /var/lib/cni, the /var/log/containers links).
  mount -t tmpfs -o mode=0755 stkube-run /run || exit 1
  mount --bind "$BASE/node/var-lib" /var/lib || exit 1
  mount --bind "$BASE/node/var-log" /var/log || exit 1
  unset http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY KUBECONFIG
  echo $$ >"$BASE/state/node.pid.new" && mv "$BASE/state/node.pid.new" "$BASE/state/node.pid"
  exec sleep infinity
}

start_node() {
  setsid unshare --mount --uts --propagation slave -- nsenter --net="/run/netns/$NS" -- \
    "$SELF" __node >>"$BASE/logs/node.log" 2>&1 </dev/null 8>&- 9>&- &
  disown $!
  local i
  for i in $(seq 1 50); do [ -f "$BASE/state/node.pid" ] && return 0; sleep 0.1; done
  die "the node's namespaces are not ready: $(tail -5 "$BASE/logs/node.log")"
}

start() { # name command... : runs it in the node
  local n=$1; shift
  (cd / && exec setsid nsenter --target "$(node_pid)" --mount --uts --net -- "$@") \
    >>"$BASE/logs/$n.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$BASE/state/$n.pid"
  disown $!
}

wait_up() { # name seconds command... : until command succeeds while name runs
  local n=$1 limit=$2 t0; shift 2; t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    kill -0 "$(cat "$BASE/state/$n.pid")" 2>/dev/null ||
      die "$n exited; the end of $BASE/logs/$n.log:
$(tail -n 15 "$BASE/logs/$n.log")"
    [ $(($(date +%s) - t0)) -lt "$limit" ] ||
      die "$n is not ready after ${limit}s; the end of $BASE/logs/$n.log:
$(tail -n 15 "$BASE/logs/$n.log")"
    sleep 0.2
  done
}

start_registry() {
  mkdir -p "$BASE/bin" "$BASE/registry"
  (cd "$ROOT" && "$GO" build -o "$BASE/bin/registry" ./scripts/swarmlab/registry) ||
    die "building the lab registry (scripts/swarmlab/registry) failed"
  setsid "$BASE/bin/registry" -dir "$BASE/registry/blobs" -listen "$REGISTRY" -listen "$REGISTRY@/run/netns/$NS" \
    >>"$BASE/logs/registry.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$BASE/state/registry.pid"
  disown $!
  wait_up registry 10 curl -sf "http://$REGISTRY/v2/"
}

# push_image puts an image of one static binary into the lab registry:
# repo:tag, binary, entrypoint name. Plain registry API, no tool.
push_image() {
  local repo=${1%:*} tag=${1##*:} d="$BASE/images/$3" ld cd md
  mkdir -p "$d" && cp "$2" "$d/$3" && chmod 755 "$d/$3" &&
    tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$d" -cf "$d/layer.tar" "$3" || return 1
  ld=sha256:$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/%s"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$3" "$ld" >"$d/config.json"
  cd=sha256:$(sha256sum "$d/config.json" | cut -d' ' -f1)
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' \
    "$cd" "$(stat -c %s "$d/config.json")" "$ld" "$(stat -c %s "$d/layer.tar")" >"$d/manifest.json"
  put_blob "$repo" "$d/layer.tar" "$ld" && put_blob "$repo" "$d/config.json" "$cd" &&
    curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$d/manifest.json" \
      "http://$REGISTRY/v2/$repo/manifests/$tag" >/dev/null && rm -rf "$d"
}

put_blob() { # repo file digest
  local loc sep='?'
  loc=$(curl -sf -X POST -D - -o /dev/null "http://$REGISTRY/v2/$1/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')
  [ -n "$loc" ] || return 1
  case $loc in http*) ;; *) loc="http://$REGISTRY$loc" ;; esac
  case $loc in *\?*) sep='&' ;; esac
  curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "$loc${sep}digest=$3" >/dev/null
}

start_etcd() {
  start etcd etcd --name "$NODE" --data-dir "$BASE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE=http://127.0.0.1:2380" --listen-metrics-urls '' \
    --quota-backend-bytes 2147483648 --unsafe-no-fsync
}

start_apiserver() {
  local p="$BASE/pki"
  wait_up etcd 30 in_node curl -sf http://127.0.0.1:2379/health
  start apiserver "$KBIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$NODE_ADDR" \
    --service-cluster-ip-range="$SVC_CIDR" --service-node-port-range=30000-32767 \
    --client-ca-file="$p/ca.crt" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --kubelet-client-certificate="$p/admin.crt" --kubelet-client-key="$p/admin.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false
}

start_controllers() {
  local p="$BASE/pki"
  wait_up apiserver 90 curl -sf --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" "$API/readyz"
  start controller-manager "$KBIN/kube-controller-manager" --kubeconfig="$BASE/kubeconfig" \
    --authentication-kubeconfig="$BASE/kubeconfig" --authorization-kubeconfig="$BASE/kubeconfig" \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" --use-service-account-credentials=true \
    --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false --flex-volume-plugin-dir="$BASE/node/volume-plugins"
  start scheduler "$KBIN/kube-scheduler" --kubeconfig="$BASE/kubeconfig" \
    --authentication-kubeconfig="$BASE/kubeconfig" --authorization-kubeconfig="$BASE/kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

manifests() {
  local f
  for f in "$LAB"/manifests/*.yaml; do
    echo ---
    sed -e "s|@REGISTRY@|$REGISTRY|g" -e "s|@COREDNS_VERSION@|$COREDNS_VERSION|g" -e "s|@DNS_ADDR@|$DNS_ADDR|g" \
      -e "s|@PROVISIONER@|$PROVISIONER|g" "$f"
  done
}

restore_sysctls() {
  local k _ v
  [ -f "$BASE/state/sysctls" ] || return 0
  while read -r k _ v; do
    [ "$(sysctl -n "$k" 2>/dev/null)" = "$v" ] || sysctl -qw "$k=$v" || say "restoring $k=$v failed"
  done <"$BASE/state/sysctls"
}

print_env() {
  [ -f "$BASE/state/up" ] || die "the lab is not up (scripts/kube-lab.sh up)"
  echo "export KUBECONFIG=$BASE/kubeconfig"
  echo "export STACK_KUBE_NODE=$NODE_ADDR"
  echo "export STACK_KUBE_REGISTRY=$REGISTRY"
}

do_up() {
  local t0 lb t_api t_node t_sa
  if health; then
    say "up already"
    print_env
    return 0
  fi
  if lab_exists; then say "removing an unhealthy or partial lab"; do_down; fi
  UP_FAILED_CLEANUP=1
  preflight
  build
  lb=$(lab_bin)
  t0=$(now)
  mkdir -p "$BASE/state" "$BASE/logs"
  gen_pki
  write_configs
  setup_network
  cgroup_setup
  start_node
  start containerd containerd --config "$BASE/containerd/config.toml"
  start_etcd
  start_apiserver
  start_registry
  push_image kube-lab/pause:3.10 "$lb/pause" pause && push_image "kube-lab/coredns:$COREDNS_VERSION" "$KBIN/coredns" coredns ||
    die "pushing the pause and CoreDNS images to $REGISTRY failed"
  wait_up containerd 30 test -S "$BASE/containerd/containerd.sock"
  start_controllers
  t_api=$(since "$t0")
  manifests | kc apply --server-side --field-manager=kube-lab -f - >/dev/null || die "applying CoreDNS and the StorageClass failed"
  # the kubelet sets kernel sysctls once, when it starts: keep what they were
  sysctl -e $SYSCTLS >"$BASE/state/sysctls" 2>/dev/null
  start kubelet "$KBIN/kubelet" --config="$BASE/kubelet.yaml" --kubeconfig="$BASE/kubelet.kubeconfig" \
    --root-dir="$BASE/kubelet" --cert-dir="$BASE/kubelet/pki" --hostname-override="$NODE" --node-ip="$NODE_ADDR"
  start kube-proxy "$KBIN/kube-proxy" --config="$BASE/kube-proxy.yaml"
  start provisioner "$lb/provisioner" -kubeconfig "$BASE/kubeconfig" -dir "$BASE/volumes" -name "$PROVISIONER" -node "$NODE"
  wait_up kubelet 60 kc wait --for=condition=Ready "node/$NODE" --timeout=2s
  restore_sysctls
  t_node=$(since "$t0")
  # pods are refused until the controller-manager has made this one
  wait_up controller-manager 60 kc get serviceaccount default
  t_sa=$(since "$t0")
  wait_up kubelet 90 kc -n kube-system wait --for=condition=Available deployment/coredns --timeout=2s
  touch "$BASE/state/up"
  UP_FAILED_CLEANUP=0
  rm -rf "$BASE.failed-logs"
  restore_sysctls
  say "up in $(since "$t0")s: API server ready at ${t_api}s, node Ready at ${t_node}s, default ServiceAccount at ${t_sa}s, then CoreDNS"
  print_env
}

on_exit() {
  local rc=$?
  if [ "${UP_FAILED_CLEANUP:-0}" = 1 ]; then
    UP_FAILED_CLEANUP=0
    rm -rf "$BASE.failed-logs" && cp -r "$BASE/logs" "$BASE.failed-logs" 2>/dev/null
    say "up failed: removing what it made (its logs are kept in $BASE.failed-logs)"
    (do_down) || say "removing the partial lab was incomplete: run scripts/kube-lab.sh down"
  fi
  exit $rc
}

# ------------------------------------------------------------------ down

cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do [ -d "$d" ] && echo "$d"; done
}

# lab_pids: the registry, every process in the node's network namespace
# (the node's own: containerd, the control plane, the kubelet, shims) and
# every container process (in the lab's cgroups).
lab_pids() {
  local p d
  p=$(cat "$BASE/state/registry.pid" 2>/dev/null) &&
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$BASE/bin/registry" ] && echo "$p"
  [ -e "/run/netns/$NS" ] && ip netns pids "$NS" 2>/dev/null
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
  local t0 d left=""; t0=$(now)
  lab_exists || { say "down: nothing to remove"; return 0; }
  # SIGKILL, all at once: the lab keeps nothing worth a clean stop, and
  # what the node made (mounts, iptables rules, veths, pod namespaces) is
  # in namespaces of its own that go with its last process.
  lab_pids | xargs -r kill -KILL 2>/dev/null
  wait_gone 15 || die "down: processes still alive: $(lab_pids | xargs -r ps -o pid=,comm= -p | xargs)"
  restore_sysctls
  ip link del "$HOSTLINK" 2>/dev/null
  [ ! -e "/run/netns/$NS" ] || ip netns del "$NS" || say "down: removing network namespace $NS failed"
  for d in $(cgroup_dirs); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
  if findmnt -rn -o TARGET | grep -q "^$BASE/"; then die "down: mounts left under $BASE: $(findmnt -rn -o TARGET | grep "^$BASE/" | xargs)"; fi
  rm -rf --one-file-system "$BASE"
  [ ! -e "/run/netns/$NS" ] || left="$left namespace $NS;"
  ! ip link show "$HOSTLINK" >/dev/null 2>&1 || left="$left link $HOSTLINK;"
  [ -z "$(cgroup_dirs)" ] || left="$left cgroups: $(cgroup_dirs | xargs);"
  [ ! -e "$BASE" ] || left="$left $BASE;"
  [ -z "$left" ] || die "down: left behind:$left"
  say "down: removed in $(since "$t0")s"
}

# ------------------------------------------------------------------ main

lock() {
  exec 9>"$LOCK"
  flock -w 3600 9 || die "another kube-lab.sh has held $LOCK for an hour (a first start builds Kubernetes)"
}

case "${1:-}" in
  up)
    lock
    trap on_exit EXIT
    trap 'exit 130' INT TERM HUP
    do_up
    ;;
  down)
    lock
    exec 7>"$TESTS_LOCK"
    flock -w 600 7 || say "tests have held $TESTS_LOCK for 10 minutes: removing the lab all the same"
    do_down
    rm -rf "$BASE.failed-logs"
    ;;
  env) print_env ;;
  status)
    health; rc=$?
    case $rc in
      0) echo "kube-lab: up and healthy, node $NODE at $NODE_ADDR, registry $REGISTRY" ;;
      1) echo "kube-lab: partial or unhealthy (scripts/kube-lab.sh down removes it)" ;;
      *) echo "kube-lab: not up" ;;
    esac
    [ $rc != 0 ] || kc get nodes -o wide
    exit $rc
    ;;
  build) preflight; build; echo "$KBIN" ;;
  kubectl) shift; exec "$KBIN/kubectl" --kubeconfig "$BASE/kubeconfig" "$@" ;;
  __node) node_init ;;
  "" | -h | --help | help) sed -n '2,/^set -u/p' "$SELF" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
  *) die "unknown command ${1:-} (scripts/kube-lab.sh help lists them)" ;;
esac
