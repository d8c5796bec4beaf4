package kube

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/types"
	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/stack-deploy/stack/engine"
)

// fileObject is a top-level secret or config as the cluster holds it: an
// object (a Secret or a ConfigMap) with the value under one key.
type fileObject struct {
	name, key string
	external  bool
}

// secretObjects maps the top-level secrets to Secrets, sorted by name. An
// external secret is a Secret that exists in the namespace, under the
// name the compose file gives it, holding its value under the compose key.
func (m *mapper) secretObjects() []*corev1ac.SecretApplyConfiguration {
	objs := m.fileObjects("secrets", (map[string]types.FileObjectConfig)(fileDefs(m.p.Secrets)))
	m.secrets = map[string]string{}
	var out []*corev1ac.SecretApplyConfiguration
	for _, key := range sortedKeys(objs) {
		o := objs[key]
		m.secrets[key] = o.name
		if o.external {
			continue
		}
		value, ok := m.value("secrets", key, types.FileObjectConfig(m.p.Secrets[key]))
		if !ok {
			continue
		}
		labels := m.labels("")
		labels[LabelSecret] = key
		out = append(out, corev1ac.Secret(o.name, m.ns).WithLabels(labels).
			WithType(corev1.SecretTypeOpaque).WithData(map[string][]byte{o.key: value}))
	}
	return out
}

// configMaps maps the top-level configs to ConfigMaps, sorted by name; a
// value that is not UTF-8 goes to binaryData.
func (m *mapper) configMaps() []*corev1ac.ConfigMapApplyConfiguration {
	defs := map[string]types.FileObjectConfig{}
	for k, v := range m.p.Configs {
		defs[k] = types.FileObjectConfig(v)
	}
	objs := m.fileObjects("configs", defs)
	m.configs = map[string]string{}
	var out []*corev1ac.ConfigMapApplyConfiguration
	for _, key := range sortedKeys(objs) {
		o := objs[key]
		m.configs[key] = o.name
		if o.external {
			continue
		}
		value, ok := m.value("configs", key, defs[key])
		if !ok {
			continue
		}
		labels := m.labels("")
		labels[LabelConfig] = key
		c := corev1ac.ConfigMap(o.name, m.ns).WithLabels(labels)
		if utf8.Valid(value) {
			c.WithData(map[string]string{o.key: string(value)})
		} else {
			c.WithBinaryData(map[string][]byte{o.key: value})
		}
		out = append(out, c)
	}
	return out
}

func fileDefs(s types.Secrets) map[string]types.FileObjectConfig {
	out := map[string]types.FileObjectConfig{}
	for k, v := range s {
		out[k] = types.FileObjectConfig(v)
	}
	return out
}

// fileObjects names the object of each secret or config (kind): its key
// when that is a DNS subdomain, else the closest one; an external one
// keeps the name it has.
func (m *mapper) fileObjects(kind string, defs map[string]types.FileObjectConfig) map[string]fileObject {
	out := map[string]fileObject{}
	owner := map[string]string{}
	for _, key := range sortedKeys(defs) {
		def := defs[key]
		dataKey := key
		if !configKey.MatchString(key) {
			dataKey, _ = objectName(key)
		}
		if def.External {
			out[key] = fileObject{name: def.Name, key: dataKey, external: true}
			continue
		}
		name, ok := objectName(key)
		if prev, dup := owner[name]; !ok || dup {
			m.fail("", kind+"."+key, ErrInvalidName, fmt.Sprintf("%q gives no object name of its own (%q, as %q)", key, name, prev),
				"rename it with lower-case letters, digits, - and .")
			continue
		}
		owner[name] = key
		if def.Driver != "" || def.TemplateDriver != "" {
			r := strings.TrimSuffix(kind, "s") + ":" + key
			m.warnings[r] = append(m.warnings[r], "driver, template_driver: the value is stored as the compose file gives it")
		}
		out[key] = fileObject{name: name, key: dataKey}
	}
	return out
}

// value reads a secret's or config's value: a file's contents, an
// environment variable's or the inline content.
func (m *mapper) value(kind, key string, def types.FileObjectConfig) ([]byte, bool) {
	switch {
	case def.Environment != "":
		v, ok := m.p.Environment[def.Environment]
		if !ok {
			m.fail("", kind+"."+key+".environment", ErrInvalid, fmt.Sprintf("environment variable %s is not set", def.Environment), "set it, or give the value another source")
		}
		return []byte(v), ok
	case def.Content != "":
		return []byte(def.Content), true
	}
	b, err := m.opts.ReadFile(def.File)
	if err != nil {
		m.fail("", kind+"."+key+".file", ErrInvalid, fmt.Sprintf("reading %s: %v", def.File, err), "create the file, or correct the path")
		return nil, false
	}
	return b, true
}

// fileMounts mounts the service's secrets and configs where compose puts
// them (a secret at /run/secrets/<name> unless absolute, a config at
// /<name>), one file each, by subPath: the rest of the directory stays the
// image's.
func (m *mapper) fileMounts(s types.ServiceConfig) ([]*corev1ac.VolumeApplyConfiguration, []*corev1ac.VolumeMountApplyConfiguration) {
	sources, err := engine.FileSources(m.p.Project, s)
	if err != nil {
		// reported at the definition (value), as the loader refuses an
		// undefined one
		return nil, nil
	}
	var (
		vols   []*corev1ac.VolumeApplyConfiguration
		mounts []*corev1ac.VolumeMountApplyConfiguration
	)
	for _, f := range sources {
		objects, prefix := m.configs, "config-"
		if f.Kind == engine.SecretFile {
			objects, prefix = m.secrets, "secret-"
		}
		obj, ok := objects[f.Key]
		if !ok {
			continue // a bad name, reported with the object
		}
		dataKey := f.Key
		if !configKey.MatchString(dataKey) {
			dataKey, _ = objectName(dataKey)
		}
		podName, _ := labelName(prefix + f.Key)
		if len(podName) > maxLabel {
			podName = fmt.Sprintf("%s%d", prefix, len(vols))
		}
		item := corev1ac.KeyToPath().WithKey(dataKey).WithPath(dataKey)
		if f.Mode != nil {
			item.WithMode(int32(*f.Mode))
		}
		if f.UID != "" || f.GID != "" {
			m.warn(s.Name, f.Kind+"s "+f.Key+" uid/gid", "a mounted file belongs to root, or to the pod's fsGroup")
		}
		v := corev1ac.Volume().WithName(podName)
		if f.Kind == engine.SecretFile {
			v.WithSecret(corev1ac.SecretVolumeSource().WithSecretName(obj).WithItems(item))
		} else {
			v.WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(obj).WithItems(item))
		}
		vols = append(vols, v)
		mounts = append(mounts, corev1ac.VolumeMount().WithName(podName).WithMountPath(path.Clean(f.Target)).WithSubPath(dataKey).WithReadOnly(true))
	}
	return vols, mounts
}
