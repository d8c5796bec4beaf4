package swarm

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

const base = `
services:
  web:
    image: web:1
    command: [serve]
    environment: {A: "1", B: "2"}
    cap_add: [NET_ADMIN, SYS_TIME]
    labels: {team: shop, tier: web}
    ports: [{target: 80, published: "8080", mode: host}]
    secrets: [token]
    volumes: [data:/data]
    healthcheck: {test: ["CMD", "true"], interval: 2s}
    deploy: {replicas: 2, endpoint_mode: dnsrr}
secrets:
  token: {environment: TOKEN}
volumes:
  data: {}
`

func mapWeb(t *testing.T, yaml string, images map[string]string) Service {
	t.Helper()
	p := load(t, yaml)
	if images == nil {
		images = pinned(p)
	}
	d, err := Map(p, Options{Images: images})
	if err != nil {
		t.Fatal(err)
	}
	return serviceNamed(t, d, "web")
}

// TestHashIsStable: the same model, however written, gives the same hash,
// so a deploy that changes nothing updates nothing; the spec's labels hold it.
func TestHashIsStable(t *testing.T) {
	a := mapWeb(t, base, nil)
	reordered := mapWeb(t, `
volumes:
  data: {}
secrets:
  token: {environment: TOKEN}
services:
  web:
    deploy: {endpoint_mode: dnsrr, replicas: 2}
    healthcheck: {interval: 2s, test: ["CMD", "true"]}
    volumes: [data:/data]
    secrets: [token]
    ports: [{mode: host, published: "8080", target: 80}]
    labels: {tier: web, team: shop}
    cap_add: [SYS_TIME, NET_ADMIN]
    environment: {B: "2", A: "1"}
    command: [serve]
    image: web:1
`, nil)
	if a.Hash.Sum != reordered.Hash.Sum {
		t.Errorf("reordering the compose file changed the hash: %v vs %v", a.Hash.Parts, reordered.Hash.Parts)
	}
	if a.Spec.Labels[engine.LabelConfigHash] != a.Hash.Sum || a.Spec.Labels[engine.LabelConfigParts] != a.Hash.PartsLabel() {
		t.Errorf("labels %v do not hold the hash %+v", a.Spec.Labels, a.Hash)
	}
	if again := mapWeb(t, base, nil); again.Hash.Sum != a.Hash.Sum {
		t.Error("mapping twice gave two hashes")
	}
}

// TestHashNamesWhatChanged: each change to the model changes the hash, and
// its parts name the compose field that changed, for the plan's reason. The
// replica count is not in it: the plan scales.
func TestHashNamesWhatChanged(t *testing.T) {
	before := mapWeb(t, base, nil)
	if scaled := mapWeb(t, replaceOnce(t, base, "replicas: 2", "replicas: 3"), nil); scaled.Hash.Sum != before.Hash.Sum {
		t.Errorf("scaling changed the hash: %v", changedParts(before.Hash, scaled.Hash))
	}
	tests := []struct {
		name, from, to string
		want           []string
	}{
		{"image", "", "", []string{"image"}},
		{"environment", `B: "2"`, `B: "3"`, []string{"environment"}},
		{"command", "command: [serve]", "command: [serve, -v]", []string{"command"}},
		{"entrypoint", "command: [serve]", "command: [serve]\n    entrypoint: [/app]", []string{"entrypoint"}},
		{"labels", "tier: web", "tier: api", []string{"labels"}},
		{"deploy.labels", "replicas: 2,", "labels: {a: b}, replicas: 2,", []string{"deploy.labels"}},
		{"endpoint_mode", "endpoint_mode: dnsrr}", "endpoint_mode: vip}", []string{"deploy.endpoint_mode"}},
		{"ports", `published: "8080"`, `published: "8081"`, []string{"ports"}},
		{"healthcheck", "interval: 2s", "interval: 3s", []string{"healthcheck"}},
		{"cap_add", "cap_add: [NET_ADMIN, SYS_TIME]", "cap_add: [NET_ADMIN]", []string{"cap_add"}},
		{"volumes", "volumes: [data:/data]", "volumes: [data:/var/data]", []string{"volumes"}},
		{"secrets", "secrets: [token]", "secrets: [{source: token, mode: 0o400}]", []string{"secrets"}},
		{"resources", "replicas: 2,", "replicas: 2, resources: {limits: {memory: 64M}},", []string{"deploy.resources"}},
		{"placement", "replicas: 2,", "replicas: 2, placement: {constraints: [node.role==worker]},", []string{"deploy.placement"}},
		{"restart", "replicas: 2,", "replicas: 2, restart_policy: {condition: none},", []string{"deploy.restart_policy"}},
		{"update_config", "replicas: 2,", "replicas: 2, update_config: {order: start-first},", []string{"deploy.update_config"}},
		{"mode", "replicas: 2,", "mode: global,", []string{"deploy.mode"}},
		{"logging", "command: [serve]", "command: [serve]\n    logging: {driver: syslog}", []string{"logging"}},
		{"networks", "command: [serve]", "command: [serve]\n    networks: {default: {aliases: [www]}}", []string{"networks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := replaceOnce(t, base, tt.from, tt.to)
			var images map[string]string
			if tt.name == "image" {
				images = map[string]string{"web": "127.0.0.1:5235/shop/web@sha256:" + strings.Repeat("f", 64)}
			}
			after := mapWeb(t, yaml, images)
			if after.Hash.Sum == before.Hash.Sum {
				t.Fatal("the hash did not change")
			}
			if got := changedParts(before.Hash, after.Hash); !slices.Equal(got, tt.want) {
				t.Errorf("changed parts %v, want %v", got, tt.want)
			}
		})
	}
}

func replaceOnce(t *testing.T, s, from, to string) string {
	t.Helper()
	if from == "" {
		return s
	}
	if !strings.Contains(s, from) {
		t.Fatalf("%q is not in the base compose file", from)
	}
	return strings.Replace(s, from, to, 1)
}

func changedParts(a, b engine.Hash) []string {
	var out []string
	for k, v := range b.Parts {
		if a.Parts[k] != v {
			out = append(out, k)
		}
	}
	for k := range a.Parts {
		if _, ok := b.Parts[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
