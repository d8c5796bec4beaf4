package docker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/manifest"
)

func loadService(t *testing.T, yaml, service string) *manifest.Project {
	t.Helper()
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{file}, ProjectName: "shop", Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestContainerSpec maps compose fields to the Engine API and checks the
// resulting JSON fragments; each case names the fields it covers.
func TestContainerSpec(t *testing.T) {
	tests := []struct {
		name       string
		yaml       string
		apiVersion string
		want       []string // fragments of the JSON of config, host config and networking config
		absent     []string // fragments it must not have
		warnings   []string
	}{
		{
			name: "command, entrypoint, environment, user, working_dir, labels, stop, init",
			yaml: `
services:
  web:
    image: web:1
    command: ["serve", "--port", "80"]
    entrypoint: ["/app"]
    environment: {B: "2", A: "1"}
    user: "1000:1000"
    working_dir: /srv
    labels: {team: shop}
    stop_signal: SIGINT
    stop_grace_period: 30s
    init: true
`,
			want: []string{
				`"Cmd":["serve","--port","80"]`, `"Entrypoint":["/app"]`, `"Env":["A=1","B=2"]`,
				`"User":"1000:1000"`, `"WorkingDir":"/srv"`, `"team":"shop"`, `"io.stack.service":"web"`,
				`"StopSignal":"SIGINT"`, `"StopTimeout":30`, `"Init":true`,
			},
		},
		{
			name: "ports with host IP, expose",
			yaml: `
services:
  web:
    image: web:1
    ports: ["127.0.0.1:8080:80", "9000:9000/udp"]
    expose: ["3000"]
`,
			want: []string{
				`"ExposedPorts":{"3000/tcp":{},"80/tcp":{},"9000/udp":{}}`,
				`"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]`, `"9000/udp":[{"HostIp":"","HostPort":"9000"}]`,
			},
		},
		{
			name: "named, bind, read-only and tmpfs volumes",
			yaml: `
services:
  web:
    image: web:1
    volumes:
      - data:/data
      - /srv/conf:/conf:ro
      - type: tmpfs
        target: /cache
        tmpfs: {size: 1048576}
volumes:
  data: {}
`,
			want: []string{
				`"Binds":["/srv/conf:/conf:ro"]`,
				`{"Type":"volume","Source":"shop_data","Target":"/data"`,
				`{"Type":"tmpfs","Target":"/cache","TmpfsOptions":{"SizeBytes":1048576}}`,
			},
		},
		{
			name: "several networks with aliases, connected after creation before API 1.44",
			yaml: `
services:
  web:
    image: web:1
    networks:
      front: {aliases: [www]}
      back: {}
networks:
  front: {}
  back: {}
`,
			apiVersion: "1.41",
			want: []string{
				`"NetworkMode":"shop_back"`, `"EndpointsConfig":{"shop_back":{"IPAMConfig":null,"Links":null,"Aliases":["web"]`,
				`connect shop_front: {"IPAMConfig":null,"Links":null,"Aliases":["web","www"]`,
			},
		},
		{
			name: "healthcheck, restart, memory and cpu limits (top level and deploy.resources)",
			yaml: `
services:
  web:
    image: web:1
    healthcheck: {test: ["CMD", "true"], interval: 2s, retries: 5, start_interval: 1s}
    restart: on-failure:3
    deploy:
      resources:
        limits: {memory: 256M, cpus: "0.5"}
`,
			apiVersion: "1.41",
			want: []string{
				`"Healthcheck":{"Test":["CMD","true"],"Interval":2000000000,"Retries":5}`,
				`"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}`,
				`"Memory":268435456`, `"NanoCpus":500000000`,
			},
			warnings: []string{`healthcheck.start_interval is not supported`},
		},
		{
			name: "extra_hosts, dns, cap_add/cap_drop, logging, scale",
			yaml: `
services:
  web:
    image: web:1
    extra_hosts: ["db.local:10.0.0.5"]
    dns: [1.1.1.1]
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    logging: {driver: json-file, options: {max-size: 1m}}
    scale: 2
`,
			want: []string{
				`"ExtraHosts":["db.local:10.0.0.5"]`, `"Dns":["1.1.1.1"]`, `"CapAdd":["NET_ADMIN"]`, `"CapDrop":["ALL"]`,
				`"LogConfig":{"Type":"json-file","Config":{"max-size":"1m"}}`,
			},
		},
		{
			name: "bind options together, subpath and gw_priority on an older engine",
			yaml: `
services:
  web:
    image: web:1
    volumes:
      - type: bind
        source: /srv/site
        target: /site
        read_only: true
        bind: {selinux: z, propagation: rslave}
      - type: volume
        source: data
        target: /data
        volume: {subpath: app}
    networks:
      default: {gw_priority: 1}
volumes:
  data: {}
`,
			apiVersion: "1.41",
			want:       []string{`"Binds":["/srv/site:/site:ro,z,rslave"]`, `"Subpath":"app"`},
			warnings:   []string{`volume.subpath is not supported`, `networks.default.gw_priority is not supported`},
		},
		{
			name: "secrets and configs: file sources bind-mounted read-only, where no volume is; others copied",
			yaml: `
services:
  web:
    image: web:1
    secrets: [key, {source: cert, target: tls.pem}]
    configs: [{source: conf, target: /etc/app.conf}, motd, {source: site, target: /srv}]
    volumes: ["/srv/site:/srv"]
secrets:
  key: {file: ./key}
  cert: {file: /etc/cert.pem}
configs:
  conf: {file: ./app.conf}
  motd: {content: hello}
  site: {file: ./site.conf}
`,
			want: []string{
				`/key","Target":"/run/secrets/key","ReadOnly":true}`,
				`{"Type":"bind","Source":"/etc/cert.pem","Target":"/run/secrets/tls.pem","ReadOnly":true}`,
				`/app.conf","Target":"/etc/app.conf","ReadOnly":true}`,
			},
			absent: []string{`"Target":"/motd"`, `site.conf`},
		},
		{
			name: "fields the engine cannot honour are warned about",
			yaml: `
services:
  web:
    image: web:1
    deploy:
      placement: {constraints: ["node.role==manager"]}
`,
			warnings: []string{`service "web": deploy.placement is not supported`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadService(t, tt.yaml, "web")
			api := tt.apiVersion
			if api == "" {
				api = "1.41"
			}
			labels := map[string]string{"io.stack.service": "web"}
			sp, warnings, err := containerSpec(p.Project, p.Project.Services["web"], labels, api)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := json.Marshal(sp.config)
			host, _ := json.Marshal(sp.host)
			net, _ := json.Marshal(sp.network)
			got := string(cfg) + "\n" + string(host) + "\n" + string(net)
			for name, ep := range sp.connect {
				b, _ := json.Marshal(ep)
				got += "\nconnect " + name + ": " + string(b)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %s in\n%s", w, got)
				}
			}
			for _, w := range tt.absent {
				if strings.Contains(got, w) {
					t.Errorf("%s in\n%s", w, got)
				}
			}
			all := strings.Join(warnings, "\n")
			for _, w := range tt.warnings {
				if !strings.Contains(all, w) {
					t.Errorf("warnings lack %q:\n%s", w, all)
				}
			}
			if len(tt.warnings) == 0 && len(warnings) > 0 {
				t.Errorf("unexpected warnings:\n%s", all)
			}
		})
	}
}
