#!/usr/bin/env bash
# smoke.sh: check a running kube lab end to end, as the tests will use it.
# Builds a static Go web server (scripts/kubelab/smoke) into an image FROM
# scratch on the main Docker engine, pushes it to STACK_KUBE_REGISTRY, and
# checks: a Deployment turns Ready and answers at STACK_KUBE_NODE:<nodePort>
# from this machine; a ClusterIP Service's name resolves and answers from
# another pod; a claim of the default StorageClass binds and its data
# outlives the pod; server-side apply (and its conflicts). Removes what it
# made. Usage: eval "$(scripts/kube-lab.sh up)"; scripts/kubelab/smoke.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${KUBECONFIG:?run eval \"\$(scripts/kube-lab.sh up)\" first}" "${STACK_KUBE_NODE:?}" "${STACK_KUBE_REGISTRY:?}"
k() { "$HERE/../kube-lab.sh" kubectl "$@"; }
say() { printf 'smoke: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; k -n kube-lab-smoke get all,pvc -o wide >&2 || true; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t0=$(now)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; k delete namespace kube-lab-smoke --wait=false >/dev/null 2>&1 || true' EXIT

(cd "$HERE" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$tmp/app" ./smoke)
printf 'FROM scratch\nCOPY app /app\nEXPOSE 8080\nENTRYPOINT ["/app"]\n' >"$tmp/Dockerfile"
ref=$STACK_KUBE_REGISTRY/kube-lab-smoke/web:$(date +%s%N)
docker build -q -t "$ref" "$tmp" >/dev/null 2>&1 || fail "docker build"
digest=$(docker push "$ref" | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p')
docker rmi "$ref" >/dev/null
[ -n "$digest" ] || fail "docker push $ref"
image=${ref%:*}@$digest
say "pushed $image from the main engine ($(since "$t0")s)"

cat >"$tmp/smoke.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: kube-lab-smoke}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: kube-lab-smoke}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: $image
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: kube-lab-smoke}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other, namespace: kube-lab-smoke}
spec:
  replicas: 1
  selector: {matchLabels: {app: other}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers:
      - name: web
        image: $image
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: kube-lab-smoke}
spec:
  selector: {app: other}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: kube-lab-smoke}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 100Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: store, namespace: kube-lab-smoke}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: store}}
  template:
    metadata: {labels: {app: store}}
    spec:
      containers:
      - name: web
        image: $image
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
        volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: v1
kind: Service
metadata: {name: store, namespace: kube-lab-smoke}
spec:
  type: NodePort
  selector: {app: store}
  ports: [{port: 80, targetPort: 8080}]
YAML
t1=$(now)
k apply --server-side --field-manager=smoke -f "$tmp/smoke.yaml" >/dev/null || fail "server-side apply"
for d in web other store; do
  k -n kube-lab-smoke rollout status "deployment/$d" --timeout=90s >/dev/null || fail "deployment $d not ready"
done
say "3 deployments Ready $(since "$t1")s after apply"

port=$(k -n kube-lab-smoke get svc web -o 'jsonpath={.spec.ports[0].nodePort}')
get() { curl -sf --max-time 10 "$@"; }
out=$(get "http://$STACK_KUBE_NODE:$port/") || fail "web at $STACK_KUBE_NODE:$port from this machine"
say "NodePort $STACK_KUBE_NODE:$port answers: $out"
out=$(get "http://$STACK_KUBE_NODE:$port/resolve?name=other.kube-lab-smoke.svc.cluster.local") || fail "DNS from a pod"
say "from a pod, other.kube-lab-smoke.svc.cluster.local resolves to $out"
out=$(get "http://$STACK_KUBE_NODE:$port/get?url=http://other/") || fail "service other by its short name from a pod"
say "from a pod, http://other/ answers: $out"

sport=$(k -n kube-lab-smoke get svc store -o 'jsonpath={.spec.ports[0].nodePort}')
[ "$(k -n kube-lab-smoke get pvc data -o 'jsonpath={.status.phase}')" = Bound ] || fail "claim data is not Bound"
say "claim data Bound to $(k -n kube-lab-smoke get pvc data -o 'jsonpath={.spec.volumeName}') ($(k get sc -o name | xargs))"
v=kept-$RANDOM
get "http://$STACK_KUBE_NODE:$sport/write?v=$v" >/dev/null || fail "writing to the claim"
old=$(k -n kube-lab-smoke get pod -l app=store -o name)
k -n kube-lab-smoke delete "$old" --wait=true >/dev/null || fail "deleting $old"
k -n kube-lab-smoke rollout status deployment/store --timeout=90s >/dev/null || fail "store not ready again"
for _ in $(seq 1 50); do out=$(get "http://$STACK_KUBE_NODE:$sport/read") && break; sleep 0.2; done
[ "${out:-}" = "$v" ] || fail "after the pod was replaced the claim holds '${out:-}', not '$v'"
say "the claim's data outlived $old: $out"

k -n kube-lab-smoke patch deployment web --type=merge -p '{"spec":{"replicas":1}}' --field-manager=other-manager >/dev/null
if k apply --server-side --field-manager=smoke -f "$tmp/smoke.yaml" >"$tmp/conflict" 2>&1; then fail "server-side apply did not report the conflict on .spec.replicas"; fi
grep -q 'conflict' "$tmp/conflict" || fail "server-side apply failed without a conflict: $(cat "$tmp/conflict")"
k apply --server-side --force-conflicts --field-manager=smoke -f "$tmp/smoke.yaml" >/dev/null || fail "forced server-side apply"
[ "$(k -n kube-lab-smoke get deploy web -o 'jsonpath={.spec.replicas}')" = 2 ] || fail "forced apply did not take .spec.replicas back"
say "server-side apply: conflict reported, forced apply took the field back"

t2=$(now)
k delete namespace kube-lab-smoke --timeout=120s >/dev/null || fail "deleting the namespace"
for _ in $(seq 1 100); do [ -z "$(k get pv -o name)" ] && break; sleep 0.2; done
[ -z "$(k get pv -o name)" ] || fail "volumes left after the claim went: $(k get pv -o name | xargs)"
say "namespace and its volume removed in $(since "$t2")s"
say "all checks passed in $(since "$t0")s"
