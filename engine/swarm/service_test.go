package swarm

import (
	"slices"
	"strings"
	"testing"
)

// TestMapService maps compose services and checks fields of the Swarm
// spec by path (see at); each case names the compose fields it covers.
// Warnings are compared as "service field".
func TestMapService(t *testing.T) {
	tests := []struct {
		name       string
		yaml       string
		apiVersion string
		// want maps a path in the spec of service "web" (or "svc:path" for
		// another service) to its JSON.
		want     map[string]string
		warnings []string
	}{
		{
			name: "image, command, entrypoint, environment, labels, user, working_dir, hostname, init, stop, tty, read_only, group_add",
			yaml: `
services:
  web:
    image: web:1
    command: ["serve", "--port", "80"]
    entrypoint: ["/app"]
    environment: {B: "2", A: "1", UNSET: null}
    labels: {team: shop}
    user: "1000:1000"
    working_dir: /srv
    hostname: "web-{{.Task.Slot}}"
    init: true
    stop_signal: SIGINT
    stop_grace_period: 30s
    tty: true
    stdin_open: true
    read_only: true
    group_add: [audio]
    deploy:
      labels: {tier: front}
`,
			want: map[string]string{
				"Name":                                       `"shop_web"`,
				"Labels.tier":                                `"front"`,
				"TaskTemplate.ContainerSpec.Image":           `"127.0.0.1:5235/shop/web@` + digest + `"`,
				"TaskTemplate.ContainerSpec.Command":         `["/app"]`,
				"TaskTemplate.ContainerSpec.Args":            `["serve","--port","80"]`,
				"TaskTemplate.ContainerSpec.Env":             `["A=1","B=2"]`,
				"TaskTemplate.ContainerSpec.Labels":          `{"io.stack.project":"shop","io.stack.service":"web","team":"shop"}`,
				"TaskTemplate.ContainerSpec.User":            `"1000:1000"`,
				"TaskTemplate.ContainerSpec.Dir":             `"/srv"`,
				"TaskTemplate.ContainerSpec.Hostname":        `"web-{{.Task.Slot}}"`,
				"TaskTemplate.ContainerSpec.Init":            `true`,
				"TaskTemplate.ContainerSpec.StopSignal":      `"SIGINT"`,
				"TaskTemplate.ContainerSpec.StopGracePeriod": `30000000000`,
				"TaskTemplate.ContainerSpec.TTY":             `true`,
				"TaskTemplate.ContainerSpec.OpenStdin":       `true`,
				"TaskTemplate.ContainerSpec.ReadOnly":        `true`,
				"TaskTemplate.ContainerSpec.Groups":          `["audio"]`,
			},
		},
		{
			name: "empty entrypoint and command cannot clear the image's",
			yaml: `
services:
  web:
    image: web:1
    entrypoint: []
    command: []
`,
			want:     map[string]string{"TaskTemplate.ContainerSpec.Command": `<absent>`},
			warnings: []string{"web entrypoint: []", "web command: []"},
		},
		{
			name: "healthcheck; start_interval needs API 1.44",
			yaml: `
services:
  web:
    image: web:1
    healthcheck:
      test: ["CMD", "/app", "-healthcheck"]
      interval: 2s
      timeout: 1s
      retries: 5
      start_period: 10s
      start_interval: 1s
`,
			apiVersion: "1.41",
			want: map[string]string{
				"TaskTemplate.ContainerSpec.Healthcheck": `{"Test":["CMD","/app","-healthcheck"],"Interval":2000000000,"Timeout":1000000000,"StartPeriod":10000000000,"Retries":5}`,
			},
			warnings: []string{"web healthcheck.start_interval"},
		},
		{
			name: "healthcheck start_interval on API 1.44",
			yaml: `
services:
  web:
    image: web:1
    healthcheck: {test: ["CMD", "true"], start_interval: 1s}
`,
			apiVersion: "1.44",
			want:       map[string]string{"TaskTemplate.ContainerSpec.Healthcheck.StartInterval": `1000000000`},
		},
		{
			name: "healthcheck disable",
			yaml: `
services:
  web:
    image: web:1
    healthcheck: {disable: true}
`,
			want: map[string]string{"TaskTemplate.ContainerSpec.Healthcheck": `{"Test":["NONE"]}`},
		},
		{
			name: "deploy.resources limits and reservations, generic resources; devices warn",
			yaml: `
services:
  web:
    image: web:1
    deploy:
      resources:
        limits: {cpus: "0.1", memory: 64M, pids: 100}
        reservations:
          cpus: "0.05"
          memory: 32M
          generic_resources: [{discrete_resource_spec: {kind: gpu, value: 2}}]
          devices: [{capabilities: [gpu]}]
`,
			want: map[string]string{
				"TaskTemplate.Resources.Limits":       `{"NanoCPUs":100000000,"MemoryBytes":67108864,"Pids":100}`,
				"TaskTemplate.Resources.Reservations": `{"NanoCPUs":50000000,"MemoryBytes":33554432,"GenericResources":[{"DiscreteResourceSpec":{"Kind":"gpu","Value":2}}]}`,
			},
			warnings: []string{"web deploy.resources.reservations.devices"},
		},
		{
			name: "mem_limit, cpus, pids_limit, mem_reservation stand in for deploy.resources",
			yaml: `
services:
  web:
    image: web:1
    mem_limit: 128m
    cpus: 1.5
    pids_limit: 50
    mem_reservation: 64m
`,
			want: map[string]string{
				"TaskTemplate.Resources.Limits":       `{"NanoCPUs":1500000000,"MemoryBytes":134217728,"Pids":50}`,
				"TaskTemplate.Resources.Reservations": `{"MemoryBytes":67108864}`,
			},
		},
		{
			name: "deploy.restart_policy",
			yaml: `
services:
  web:
    image: web:1
    restart: always
    deploy:
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 1m}
`,
			want: map[string]string{
				"TaskTemplate.RestartPolicy": `{"Condition":"on-failure","Delay":5000000000,"MaxAttempts":3,"Window":60000000000}`,
			},
			warnings: []string{"web restart"},
		},
		{
			name: "restart on-failure:3 as a restart policy",
			yaml: `
services:
  web: {image: "web:1", restart: "on-failure:3"}
`,
			want: map[string]string{"TaskTemplate.RestartPolicy": `{"Condition":"on-failure","MaxAttempts":3}`},
		},
		{
			name: "restart no and unless-stopped",
			yaml: `
services:
  web: {image: "web:1", restart: "no"}
  api: {image: "web:1", restart: unless-stopped}
`,
			want: map[string]string{
				"TaskTemplate.RestartPolicy":     `{"Condition":"none"}`,
				"api:TaskTemplate.RestartPolicy": `{"Condition":"any"}`,
			},
		},
		{
			name: "deploy.placement and platform",
			yaml: `
services:
  web:
    image: web:1
    platform: linux/arm64/v8
    deploy:
      placement:
        constraints: [node.role == worker, node.labels.zone == a]
        preferences: [{spread: node.labels.zone}]
        max_replicas_per_node: 2
`,
			want: map[string]string{
				"TaskTemplate.Placement": `{"Constraints":["node.role == worker","node.labels.zone == a"],"Preferences":[{"Spread":{"SpreadDescriptor":"node.labels.zone"}}],"MaxReplicas":2,"Platforms":[{"Architecture":"arm64","OS":"linux"}]}`,
			},
			warnings: []string{"web platform variant v8"},
		},
		{
			name: "no update_config: one task at a time, rolled back on failure; no rollback_config: Swarm's",
			yaml: `
services:
  web: {image: "web:1"}
`,
			want: map[string]string{
				"UpdateConfig":   `{"Parallelism":1,"FailureAction":"rollback","MaxFailureRatio":0,"Order":""}`,
				"RollbackConfig": `<absent>`,
				"Mode":           `{"Replicated":{"Replicas":1}}`,
				"EndpointSpec":   `{"Mode":"vip"}`,
			},
		},
		{
			name: "update_config and rollback_config",
			yaml: `
services:
  web:
    image: web:1
    deploy:
      update_config: {parallelism: 2, delay: 10s, failure_action: pause, monitor: 30s, max_failure_ratio: 0.5, order: start-first}
      rollback_config: {order: stop-first}
`,
			want: map[string]string{
				"UpdateConfig":   `{"Parallelism":2,"Delay":10000000000,"FailureAction":"pause","Monitor":30000000000,"MaxFailureRatio":0.5,"Order":"start-first"}`,
				"RollbackConfig": `{"Parallelism":1,"MaxFailureRatio":0,"Order":"stop-first"}`,
			},
		},
		{
			name: "deploy.replicas, and scale when replicas is unset",
			yaml: `
services:
  web: {image: "web:1", deploy: {replicas: 4}}
  api: {image: "web:1", scale: 3}
`,
			want: map[string]string{"Mode": `{"Replicated":{"Replicas":4}}`, "api:Mode": `{"Replicated":{"Replicas":3}}`},
		},
		{
			name: "deploy.mode global; max_replicas_per_node warns",
			yaml: `
services:
  web:
    image: web:1
    deploy: {mode: global, placement: {max_replicas_per_node: 1}}
`,
			want:     map[string]string{"Mode": `{"Global":{}}`},
			warnings: []string{"web deploy.placement.max_replicas_per_node"},
		},
		{
			name: "a service others wait on to complete runs as a replicated job, without update configs",
			yaml: `
services:
  web:
    image: web:1
    deploy:
      replicas: 2
      update_config: {order: start-first}
  app:
    image: web:1
    depends_on:
      web: {condition: service_completed_successfully}
`,
			want: map[string]string{
				"Mode":         `{"ReplicatedJob":{"MaxConcurrent":2,"TotalCompletions":2}}`,
				"UpdateConfig": `<absent>`,
			},
			warnings: []string{"web deploy.update_config/rollback_config"},
		},
		{
			name: "global and completed: a global job; deploy.mode replicated-job",
			yaml: `
services:
  web: {image: "web:1", deploy: {mode: global}}
  job: {image: "web:1", deploy: {mode: replicated-job}}
  app:
    image: web:1
    depends_on: {web: {condition: service_completed_successfully}}
`,
			want: map[string]string{
				"Mode":     `{"GlobalJob":{}}`,
				"job:Mode": `{"ReplicatedJob":{"MaxConcurrent":1,"TotalCompletions":1}}`,
				"app:Mode": `{"Replicated":{"Replicas":1}}`,
			},
		},
		{
			name: "endpoint_mode dnsrr with host-mode ports; host_ip and app_protocol warn",
			yaml: `
services:
  web:
    image: web:1
    deploy: {endpoint_mode: dnsrr}
    ports:
      - {target: 80, published: "8080", mode: host, host_ip: 127.0.0.1}
      - {target: 53, protocol: udp, mode: host, name: dns, app_protocol: dns}
`,
			want: map[string]string{
				"EndpointSpec": `{"Mode":"dnsrr","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"host"},{"Name":"dns","Protocol":"udp","TargetPort":53,"PublishMode":"host"}]}`,
			},
			warnings: []string{"web ports 80: host_ip", "web ports 53: app_protocol"},
		},
		{
			name: "ingress ports",
			yaml: `
services:
  web: {image: "web:1", ports: ["8080:80", "443"]}
`,
			want: map[string]string{
				"EndpointSpec.Ports": `[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"ingress"},{"Protocol":"tcp","TargetPort":443,"PublishMode":"ingress"}]`,
			},
		},
		{
			name: "networks in priority order, with the service name and aliases; endpoint addresses warn",
			yaml: `
services:
  web:
    image: web:1
    networks:
      back: {aliases: [api], priority: 1, ipv4_address: 10.5.0.5, driver_opts: {a: b}}
      front: {priority: 10}
networks:
  back: {}
  front: {}
`,
			want: map[string]string{
				"TaskTemplate.Networks": `[{"Target":"shop_front","Aliases":["web"]},{"Target":"shop_back","Aliases":["web","api"],"DriverOpts":{"a":"b"}}]`,
			},
			warnings: []string{"web networks.back.ipv4_address"},
		},
		{
			name: "network_mode host joins the host network; other modes warn",
			yaml: `
services:
  web: {image: "web:1", network_mode: host}
  api: {image: "web:1", network_mode: "service:web"}
`,
			want:     map[string]string{"TaskTemplate.Networks": `[{"Target":"host"}]`},
			warnings: []string{"api network_mode service:web"},
		},
		{
			name: "volumes: named with its driver and labels, anonymous, external, bind, tmpfs; subpath needs API 1.45",
			yaml: `
services:
  web:
    image: web:1
    volumes:
      - {type: volume, source: data, target: /data, read_only: true, volume: {nocopy: true, subpath: sub}}
      - /cache
      - ext:/ext
      - {type: bind, source: /srv, target: /srv, bind: {propagation: rshared, create_host_path: false}}
      - {type: tmpfs, target: /tmp, tmpfs: {size: 1m, mode: 0o1777}}
    tmpfs: ["/run:size=64m,mode=1777,noexec"]
volumes:
  data: {driver: local, driver_opts: {type: tmpfs, device: tmpfs}, labels: {keep: "yes"}}
  ext: {external: true}
`,
			apiVersion: "1.41",
			want: map[string]string{
				"TaskTemplate.ContainerSpec.Mounts.0.Source":                     `"shop_data"`,
				"TaskTemplate.ContainerSpec.Mounts.0.ReadOnly":                   `true`,
				"TaskTemplate.ContainerSpec.Mounts.0.VolumeOptions.NoCopy":       `true`,
				"TaskTemplate.ContainerSpec.Mounts.0.VolumeOptions.Subpath":      `<absent>`,
				"TaskTemplate.ContainerSpec.Mounts.0.VolumeOptions.Labels.keep":  `"yes"`,
				"TaskTemplate.ContainerSpec.Mounts.0.VolumeOptions.DriverConfig": `{"Name":"local","Options":{"device":"tmpfs","type":"tmpfs"}}`,
				"TaskTemplate.ContainerSpec.Mounts.1":                            `{"Type":"volume","Target":"/cache","VolumeOptions":{"Labels":{"io.stack.project":"shop"}}}`,
				"TaskTemplate.ContainerSpec.Mounts.2":                            `{"Type":"volume","Source":"ext","Target":"/ext","VolumeOptions":{}}`,
				"TaskTemplate.ContainerSpec.Mounts.3":                            `{"Type":"bind","Source":"/srv","Target":"/srv","BindOptions":{"Propagation":"rshared"}}`,
				"TaskTemplate.ContainerSpec.Mounts.4":                            `{"Type":"tmpfs","Target":"/tmp","TmpfsOptions":{"SizeBytes":1048576,"Mode":1023}}`,
				"TaskTemplate.ContainerSpec.Mounts.5":                            `{"Type":"tmpfs","Target":"/run","TmpfsOptions":{"SizeBytes":67108864,"Mode":1023}}`,
				"TaskTemplate.ContainerSpec.Mounts.6":                            `<absent>`,
			},
			warnings: []string{"web volumes /data: volume.subpath", "web tmpfs /run:size=64m,mode=1777,noexec: options other than size and mode"},
		},
		{
			name: "a bind that may be missing on a node warns",
			yaml: `
services:
  web: {image: "web:1", volumes: ["/srv/data:/data:ro"]}
`,
			want:     map[string]string{"TaskTemplate.ContainerSpec.Mounts": `[{"Type":"bind","Source":"/srv/data","Target":"/data","ReadOnly":true}]`},
			warnings: []string{"web volumes /data: bind.create_host_path"},
		},
		{
			name: "secrets and configs: targets, owners and modes",
			yaml: `
services:
  web:
    image: web:1
    secrets: [token, {source: key, target: app.key, uid: "100", gid: "101", mode: 0o400}]
    configs: [conf, {source: site, target: /etc/site.conf}]
secrets:
  token: {environment: TOKEN}
  key: {file: ./key.pem}
configs:
  conf: {content: hello}
  site: {file: ./site.conf}
`,
			want: map[string]string{
				"TaskTemplate.ContainerSpec.Secrets.0.File": `{"Name":"/run/secrets/token","UID":"0","GID":"0","Mode":292}`,
				"TaskTemplate.ContainerSpec.Secrets.1.File": `{"Name":"app.key","UID":"100","GID":"101","Mode":256}`,
				"TaskTemplate.ContainerSpec.Configs.0.File": `{"Name":"/conf","UID":"0","GID":"0","Mode":292}`,
				"TaskTemplate.ContainerSpec.Configs.1.File": `{"Name":"/etc/site.conf","UID":"0","GID":"0","Mode":292}`,
				"TaskTemplate.ContainerSpec.Configs.2":      `<absent>`,
			},
		},
		{
			name: "cap_add and cap_drop sorted, sysctls, ulimits, dns, extra_hosts, logging, isolation",
			yaml: `
services:
  web:
    image: web:1
    cap_add: [SYS_TIME, NET_ADMIN]
    cap_drop: [ALL]
    sysctls: {net.core.somaxconn: "1024"}
    ulimits: {nproc: 65535, nofile: {soft: 1024, hard: 2048}}
    dns: [10.0.0.2]
    dns_search: [shop.internal]
    dns_opt: [ndots:2]
    extra_hosts: ["db=10.0.0.9", "cache:10.0.0.8"]
    logging: {driver: json-file, options: {max-size: 1m}}
    isolation: default
`,
			want: map[string]string{
				"TaskTemplate.ContainerSpec.CapabilityAdd":  `["NET_ADMIN","SYS_TIME"]`,
				"TaskTemplate.ContainerSpec.CapabilityDrop": `["ALL"]`,
				"TaskTemplate.ContainerSpec.Sysctls":        `{"net.core.somaxconn":"1024"}`,
				"TaskTemplate.ContainerSpec.Ulimits":        `[{"Name":"nofile","Hard":2048,"Soft":1024},{"Name":"nproc","Hard":65535,"Soft":65535}]`,
				"TaskTemplate.ContainerSpec.DNSConfig":      `{"Nameservers":["10.0.0.2"],"Search":["shop.internal"],"Options":["ndots:2"]}`,
				"TaskTemplate.ContainerSpec.Hosts":          `["10.0.0.8 cache","10.0.0.9 db"]`,
				"TaskTemplate.ContainerSpec.Isolation":      `"default"`,
				"TaskTemplate.LogDriver":                    `{"Name":"json-file","Options":{"max-size":"1m"}}`,
			},
		},
		{
			name: "security_opt and oom_score_adj need a newer manager",
			yaml: `
services:
  web:
    image: web:1
    security_opt: ["no-new-privileges:true", "seccomp=unconfined", "label=disable"]
    oom_score_adj: 500
`,
			apiVersion: "1.41",
			want: map[string]string{
				"TaskTemplate.ContainerSpec.Privileges":  `{"CredentialSpec":null,"SELinuxContext":{"Disable":true,"User":"","Role":"","Type":"","Level":""},"NoNewPrivileges":false}`,
				"TaskTemplate.ContainerSpec.OomScoreAdj": `<absent>`,
			},
			warnings: []string{"web security_opt no-new-privileges:true", "web security_opt seccomp=unconfined", "web oom_score_adj"},
		},
		{
			name: "security_opt and oom_score_adj on API 1.46",
			yaml: `
services:
  web:
    image: web:1
    security_opt: ["no-new-privileges", "seccomp:unconfined", "apparmor=unconfined", "label=user:USER", "seccomp=/profile.json"]
    oom_score_adj: 500
`,
			apiVersion: "1.46",
			want: map[string]string{
				"TaskTemplate.ContainerSpec.Privileges":  `{"CredentialSpec":null,"SELinuxContext":{"Disable":false,"User":"USER","Role":"","Type":"","Level":""},"Seccomp":{"Mode":"unconfined"},"AppArmor":{"Mode":"disabled"},"NoNewPrivileges":true}`,
				"TaskTemplate.ContainerSpec.OomScoreAdj": `500`,
			},
			warnings: []string{"web security_opt seccomp=/profile.json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, tt.yaml, "key.pem", "KEY", "site.conf", "site")
			d, err := Map(p, Options{Images: pinned(p), APIVersion: tt.apiVersion})
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range tt.want {
				svc, path, ok := strings.Cut(key, ":")
				if !ok {
					svc, path = "web", key
				}
				if got := at(t, serviceNamed(t, d, svc).Spec, path); got != canon(t, want) {
					t.Errorf("%s %s:\n got %s\nwant %s", svc, path, got, want)
				}
			}
			var got []string
			for _, w := range d.Warnings {
				got = append(got, w.Service+" "+w.Field)
			}
			if !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.warnings)
			}
		})
	}
}

func serviceNamed(t *testing.T, d *Desired, name string) Service {
	t.Helper()
	for _, s := range d.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %q in %+v", name, d.Services)
	return Service{}
}
