package swarm

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// TestMapErrors: the model asks for what Swarm refuses. Every problem is
// reported at once, naming service and field.
func TestMapErrors(t *testing.T) {
	yaml := `
services:
  web:
    image: web:1
    deploy: {endpoint_mode: dnsrr, update_config: {failure_action: explode}}
    ports: ["8080:80"]
  glob:
    image: web:1
    deploy: {mode: global, replicas: 2, rollback_config: {failure_action: rollback}}
  odd:
    image: web:1
    restart: sometimes
    tmpfs: ["/run:size=lots"]
    ports: [{target: 80, published: "8000-8001"}]
  bare:
    image: web:1
    secrets: [missing]
  a-service-name-that-is-long-enough-to-break-the-dns-label-limit:
    image: web:1
secrets:
  missing: {environment: NOT_SET}
`
	p := load(t, yaml)
	images := pinned(p)
	images["bare"] = "web:1" // a tag, not a digest
	_, err := Map(p, Options{Images: images})
	if err == nil {
		t.Fatal("Map accepted what Swarm refuses")
	}
	for _, want := range []string{
		`service "web": ports 80: not valid on Swarm: endpoint_mode dnsrr cannot publish through the ingress routing mesh; publish with mode: host`,
		`service "web": deploy.update_config.failure_action: not valid on Swarm: "explode"; use pause, continue or rollback`,
		`service "glob": deploy.replicas: not valid on Swarm: a global service runs one task per node`,
		`service "glob": deploy.rollback_config.failure_action: not valid on Swarm: a rollback cannot roll back`,
		`service "odd": restart: not valid on Swarm: "sometimes"`,
		`service "odd": tmpfs /run:size=lots: not valid on Swarm: size "lots"`,
		`service "odd": ports 80: published: not valid on Swarm: "8000-8001"; Swarm publishes one port per target`,
		`service "bare": image: image not pinned by digest: "web:1" is not a digest reference`,
		`secrets.missing.environment: variable "NOT_SET" is not set`,
		`service "a-service-name-that-is-long-enough-to-break-the-dns-label-limit": name: not valid on Swarm: the Swarm service shop_a-service-name-that-is-long-enough-to-break-the-dns-label-limit is longer than 63 characters`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrNotPinned) {
		t.Errorf("errors.Is(ErrInvalid, ErrNotPinned) = %v, %v", errors.Is(err, ErrInvalid), errors.Is(err, ErrNotPinned))
	}
}

func TestMapNeedsAnImageForEveryService(t *testing.T) {
	p := load(t, "services: {web: {image: \"web:1\"}}")
	_, err := Map(p, Options{})
	if !errors.Is(err, ErrNotPinned) || !strings.Contains(err.Error(), `service "web": image: image not pinned by digest: no digest was resolved for "web:1"`) {
		t.Errorf("got %v", err)
	}
}

func TestMapRefusesAnOldManager(t *testing.T) {
	p := load(t, "services: {web: {image: \"web:1\"}}")
	_, err := Map(p, Options{Images: pinned(p), APIVersion: "1.40"})
	if !errors.Is(err, ErrAPIVersion) {
		t.Errorf("got %v, want ErrAPIVersion", err)
	}
}

func TestMapNetworks(t *testing.T) {
	p := load(t, `
services:
  web: {image: "web:1", networks: [back, front, legacy, ext]}
networks:
  back:
    attachable: true
    internal: true
    labels: {team: shop}
    driver_opts: {encrypted: ""}
    ipam: {config: [{subnet: 10.9.0.0/24, gateway: 10.9.0.1, ip_range: 10.9.0.128/25}]}
  front: {driver: overlay, enable_ipv6: true}
  legacy: {driver: bridge}
  ext: {external: true, name: shared-net}
`)
	d, err := Map(p, Options{Images: pinned(p), APIVersion: "1.41"})
	if err != nil {
		t.Fatal(err)
	}
	nets := map[string]Network{}
	for _, n := range d.Networks {
		nets[n.Key] = n
	}
	for path, want := range map[string]string{
		"back.Name":                 `"shop_back"`,
		"back.Spec.Driver":          `"overlay"`,
		"back.Spec.Scope":           `"swarm"`,
		"back.Spec.Attachable":      `true`,
		"back.Spec.Internal":        `true`,
		"back.Spec.Options":         `{"encrypted":""}`,
		"back.Spec.IPAM":            `{"Driver":"","Options":null,"Config":[{"Subnet":"10.9.0.0/24","IPRange":"10.9.0.128/25","Gateway":"10.9.0.1"}]}`,
		"back.Spec.Labels.team":     `"shop"`,
		"back.Spec.Labels.io.stack": `<absent>`, // dots in label keys: see below
		"front.Spec.EnableIPv6":     `true`,
		"legacy.Spec.Driver":        `"overlay"`,
		"ext.External":              `true`,
		"ext.Name":                  `"shared-net"`,
		"ext.Spec.Driver":           `""`,
	} {
		key, rest, _ := strings.Cut(path, ".")
		if got := at(t, nets[key], rest); got != canon(t, want) {
			t.Errorf("%s:\n got %s\nwant %s", path, got, want)
		}
	}
	labels := nets["back"].Spec.Labels
	if labels["io.stack.project"] != "shop" || labels["io.stack.network"] != "back" || len(labels["io.stack.config-hash"]) != 64 {
		t.Errorf("labels %v lack the project, the network key or the hash", labels)
	}
	if len(d.Warnings) != 1 || d.Warnings[0].Field != "networks.legacy.driver bridge" {
		t.Errorf("warnings %v, want one for networks.legacy.driver", d.Warnings)
	}
}

func TestMapVolumes(t *testing.T) {
	p := load(t, `
services:
  web: {image: "web:1", volumes: ["data:/data", "ext:/ext"]}
volumes:
  data: {driver: local, labels: {keep: "yes"}}
  ext: {external: true, name: shared-data}
`)
	d, err := Map(p, Options{Images: pinned(p)})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Volumes) != 2 {
		t.Fatalf("volumes %+v", d.Volumes)
	}
	data, ext := d.Volumes[0], d.Volumes[1]
	if data.Name != "shop_data" || data.Spec.Name != "shop_data" || data.Spec.Driver != "local" ||
		data.Spec.Labels["keep"] != "yes" || data.Spec.Labels["io.stack.volume"] != "data" || data.Spec.Labels["io.stack.config-hash"] == "" {
		t.Errorf("data: %+v", data)
	}
	if !ext.External || ext.Name != "shared-data" || ext.Spec.Labels != nil {
		t.Errorf("ext: %+v", ext)
	}
	// The mount carries what each node creates the volume with.
	mounts := d.Services[0].Spec.TaskTemplate.ContainerSpec.Mounts
	if got := mounts[0].VolumeOptions.Labels["io.stack.config-hash"]; got != data.Spec.Labels["io.stack.config-hash"] {
		t.Errorf("the mount's hash label %q is not the volume's %q", got, data.Spec.Labels["io.stack.config-hash"])
	}
}

var objectNamePattern = regexp.MustCompile(`^shop_[a-z]+-[0-9a-f]{12}$`)

// TestMapObjects: secrets and configs from a file, the environment or
// content, named after a hash of what they are made of.
func TestMapObjects(t *testing.T) {
	compose := `
services:
  web: {image: "web:1", secrets: [file, env, vault, ext], configs: [conf]}
secrets:
  file: {file: ./token.txt, labels: {team: shop}}
  env: {environment: TOKEN}
  vault: {file: ./token.txt, driver: vault, driver_opts: {path: kv/web}}
  ext: {external: true, name: shared-token}
configs:
  conf: {content: "port=80", template_driver: golang}
`
	mapped := func(token string) *Desired {
		p := load(t, compose, "token.txt", token)
		d, err := Map(p, Options{Images: pinned(p)})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := mapped("s3cret")
	secrets := map[string]Object{}
	for _, o := range d.Secrets {
		secrets[o.Key] = o
	}
	if f := secrets["file"]; string(f.Data) != "s3cret" || f.Labels["team"] != "shop" || f.Labels["io.stack.secret"] != "file" || !objectNamePattern.MatchString(f.Name) {
		t.Errorf("file secret %+v", f)
	}
	if e := secrets["env"]; string(e.Data) != "from-env" || !objectNamePattern.MatchString(e.Name) {
		t.Errorf("environment secret %+v", e)
	}
	if v := secrets["vault"]; v.Driver == nil || v.Driver.Name != "vault" || v.Driver.Options["path"] != "kv/web" || v.Data != nil {
		t.Errorf("driver secret %+v", v)
	}
	if x := secrets["ext"]; !x.External || x.Name != "shared-token" || x.Data != nil {
		t.Errorf("external secret %+v", x)
	}
	conf := d.Configs[0]
	if string(conf.Data) != "port=80" || conf.Templating == nil || conf.Templating.Name != "golang" || conf.Labels["io.stack.config"] != "conf" {
		t.Errorf("config %+v", conf)
	}
	spec := conf.ConfigSpec()
	if spec.Name != conf.Name || string(spec.Data) != "port=80" || spec.Labels["io.stack.project"] != "shop" {
		t.Errorf("ConfigSpec %+v", spec)
	}
	if s := secrets["file"].SecretSpec(); s.Name != secrets["file"].Name || string(s.Data) != "s3cret" {
		t.Errorf("SecretSpec %+v", s)
	}

	// A changed file is a new object, and the service using it changes;
	// the same file again is the same object.
	again, changed := mapped("s3cret"), mapped("n3w")
	name := func(d *Desired) string { return d.Secrets[2].Name } // sorted by key: env, ext, file, vault
	if d.Secrets[2].Key != "file" || name(again) != name(d) || again.Services[0].Hash.Sum != d.Services[0].Hash.Sum {
		t.Errorf("the same content mapped to %s, then %s", name(d), name(again))
	}
	if name(changed) == name(d) {
		t.Errorf("changed content kept the name %s", name(changed))
	}
	if changed.Services[0].Hash.Parts["secrets"] == d.Services[0].Hash.Parts["secrets"] {
		t.Error("changed content did not change the service's secrets part")
	}
}

func TestObjectNameFitsSwarmsLimit(t *testing.T) {
	long := strings.Repeat("x", 80)
	name := objectName(long, Object{Data: []byte("a")})
	if len(name) != maxObjectName || !strings.HasPrefix(name, "xxx") || !regexp.MustCompile(`-[0-9a-f]{12}$`).MatchString(name) {
		t.Errorf("objectName of an 80-character base: %q (%d)", name, len(name))
	}
}

func TestResolve(t *testing.T) {
	p := load(t, `
services:
  web: {image: "web:1", secrets: [token], configs: [conf]}
secrets:
  token: {environment: TOKEN}
configs:
  conf: {content: hello}
`)
	d, err := Map(p, Options{Images: pinned(p)})
	if err != nil {
		t.Fatal(err)
	}
	web := d.Services[0]
	secret, config := d.Secrets[0].Name, d.Configs[0].Name
	spec, err := web.Resolve(map[string]string{secret: "sid"}, map[string]string{config: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	cs := spec.TaskTemplate.ContainerSpec
	if cs.Secrets[0].SecretID != "sid" || cs.Secrets[0].SecretName != secret || cs.Configs[0].ConfigID != "cid" {
		t.Errorf("resolved %+v %+v", cs.Secrets[0], cs.Configs[0])
	}
	if web.Spec.TaskTemplate.ContainerSpec.Secrets[0].SecretID != "" {
		t.Error("Resolve changed the desired spec")
	}
	if _, err := web.Resolve(nil, map[string]string{config: "cid"}); !errors.Is(err, ErrNoObjectID) {
		t.Errorf("a missing secret ID: %v", err)
	}
}
