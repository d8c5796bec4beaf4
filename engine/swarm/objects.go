package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// maxObjectName is Swarm's limit on secret and config names.
const maxObjectName = 64

func fileObjects(s types.Secrets) map[string]types.FileObjectConfig {
	out := make(map[string]types.FileObjectConfig, len(s))
	for k, v := range s {
		out[k] = types.FileObjectConfig(v)
	}
	return out
}

func configObjects(c types.Configs) map[string]types.FileObjectConfig {
	out := make(map[string]types.FileObjectConfig, len(c))
	for k, v := range c {
		out[k] = types.FileObjectConfig(v)
	}
	return out
}

// objects maps the top-level secrets or configs (kind) of the project,
// labelling each with its key under label. Content comes from a file, an
// environment variable of the project, or the model itself; a secret may
// instead name a driver that fetches it.
func (m *mapper) objects(kind, label string, objs map[string]types.FileObjectConfig) map[string]Object {
	out := map[string]Object{}
	for _, key := range slices.Sorted(maps.Keys(objs)) {
		o := objs[key]
		field := kind + "." + key
		if o.External {
			name := o.Name
			if name == "" {
				name = key
			}
			out[key] = Object{Key: key, Name: name, External: true}
			continue
		}
		obj := Object{Key: key, Labels: stackLabels(o.Labels, engine.LabelProject, m.p.Name, label, key)}
		secretDriver := o.Driver != "" && kind == "secrets"
		if o.Driver != "" && !secretDriver {
			m.warn("", field+".driver", "only secrets have drivers")
		}
		switch {
		case secretDriver:
			obj.Driver = &swarm.Driver{Name: o.Driver, Options: o.DriverOpts}
		case o.File != "":
			data, err := m.opts.ReadFile(o.File)
			if err != nil {
				m.fail("", field+".file", err)
				continue
			}
			obj.Data = data
		case o.Environment != "":
			v, ok := m.p.Environment[o.Environment]
			if !ok {
				m.fail("", field+".environment", fmt.Errorf("variable %q is not set; set it, or give the %s a file or content", o.Environment, kind[:len(kind)-1]))
				continue
			}
			obj.Data = []byte(v)
		case o.Content != "":
			obj.Data = []byte(o.Content)
		default:
			m.fail("", field, fmt.Errorf("%w: it has no file, environment or content", ErrInvalid))
			continue
		}
		if o.TemplateDriver != "" {
			obj.Templating = &swarm.Driver{Name: o.TemplateDriver}
		}
		base := o.Name
		if base == "" {
			base = m.p.Name + "_" + key
		}
		obj.Name = objectName(base, obj)
		out[key] = obj
	}
	return out
}

// objectName is base and a hash of everything an object is created from,
// cut to Swarm's length limit: <project>_<key>-<12 hex digits>.
func objectName(base string, o Object) string {
	b, _ := json.Marshal(struct {
		Data               []byte
		Labels             map[string]string
		Driver, Templating *swarm.Driver
	}{o.Data, o.Labels, o.Driver, o.Templating})
	sum := sha256.Sum256(b)
	suffix := "-" + hex.EncodeToString(sum[:6])
	if len(base)+len(suffix) > maxObjectName {
		base = base[:maxObjectName-len(suffix)]
	}
	return base + suffix
}

func sortedObjects(objs map[string]Object) []Object {
	out := make([]Object, 0, len(objs))
	for _, k := range slices.Sorted(maps.Keys(objs)) {
		out = append(out, objs[k])
	}
	return out
}

// fileRef is a secret or config mounted into a service's tasks.
type fileRef struct {
	object, target, uid, gid string
	mode                     os.FileMode
}

// fileRefs resolves a service's secret or config references (kind) to the
// objects they name, with compose's defaults: target as defaultTarget says,
// owned by root, mode 0444. Sorted by target.
func (m *mapper) fileRefs(s types.ServiceConfig, kind string, refs []types.FileReferenceConfig, objs map[string]Object, defaultTarget func(source string) string) []fileRef {
	var out []fileRef
	for _, r := range refs {
		obj, ok := objs[r.Source]
		if !ok {
			m.fail(s.Name, kind+"s", fmt.Errorf("%w: %s %q is not defined at the top level", ErrInvalid, kind, r.Source))
			continue
		}
		f := fileRef{object: obj.Name, target: r.Target, uid: r.UID, gid: r.GID, mode: 0o444}
		if f.target == "" {
			f.target = defaultTarget(r.Source)
		}
		if f.uid == "" {
			f.uid = "0"
		}
		if f.gid == "" {
			f.gid = "0"
		}
		if r.Mode != nil {
			f.mode = os.FileMode(*r.Mode)
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].target < out[j].target })
	return out
}

// secretRefs mounts the service's secrets: at /run/secrets/<key> unless a
// target says otherwise.
func (m *mapper) secretRefs(s types.ServiceConfig) []*swarm.SecretReference {
	refs := make([]types.FileReferenceConfig, len(s.Secrets))
	for i, r := range s.Secrets {
		refs[i] = types.FileReferenceConfig(r)
	}
	var out []*swarm.SecretReference
	for _, f := range m.fileRefs(s, "secret", refs, m.secrets, func(source string) string { return source }) {
		out = append(out, &swarm.SecretReference{SecretName: f.object, File: &swarm.SecretReferenceFileTarget{Name: f.target, UID: f.uid, GID: f.gid, Mode: f.mode}})
	}
	return out
}

// configRefs mounts the service's configs: at /<key> unless a target says
// otherwise.
func (m *mapper) configRefs(s types.ServiceConfig) []*swarm.ConfigReference {
	refs := make([]types.FileReferenceConfig, len(s.Configs))
	for i, r := range s.Configs {
		refs[i] = types.FileReferenceConfig(r)
	}
	var out []*swarm.ConfigReference
	for _, f := range m.fileRefs(s, "config", refs, m.configs, func(source string) string { return "/" + source }) {
		out = append(out, &swarm.ConfigReference{ConfigName: f.object, File: &swarm.ConfigReferenceFileTarget{Name: f.target, UID: f.uid, GID: f.gid, Mode: f.mode}})
	}
	return out
}

// Resolve returns a copy of the service's spec with the IDs of its secrets
// and configs filled in (Swarm needs both name and ID in a reference), from
// the IDs the manager gave the objects by name. The hash does not cover the
// IDs: an object recreated under the same name changes no service.
func (s Service) Resolve(secretIDs, configIDs map[string]string) (swarm.ServiceSpec, error) {
	spec := s.Spec
	cs := *spec.TaskTemplate.ContainerSpec
	cs.Secrets = make([]*swarm.SecretReference, len(s.Spec.TaskTemplate.ContainerSpec.Secrets))
	for i, r := range s.Spec.TaskTemplate.ContainerSpec.Secrets {
		ref := *r
		if ref.SecretID = secretIDs[ref.SecretName]; ref.SecretID == "" {
			return spec, fmt.Errorf("service %q: secret %s: %w", s.Name, ref.SecretName, ErrNoObjectID)
		}
		cs.Secrets[i] = &ref
	}
	cs.Configs = make([]*swarm.ConfigReference, len(s.Spec.TaskTemplate.ContainerSpec.Configs))
	for i, r := range s.Spec.TaskTemplate.ContainerSpec.Configs {
		ref := *r
		if ref.ConfigID = configIDs[ref.ConfigName]; ref.ConfigID == "" {
			return spec, fmt.Errorf("service %q: config %s: %w", s.Name, ref.ConfigName, ErrNoObjectID)
		}
		cs.Configs[i] = &ref
	}
	spec.TaskTemplate.ContainerSpec = &cs
	return spec, nil
}
