package kube

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/go-units"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// defaultSize is the storage a claim asks for when x-stack says nothing.
const defaultSize = "1Gi"

// volume is how one named volume of the project is claimed.
type volume struct {
	// name is the claim's (shared) or the claim template's (per replica).
	name string
	// perReplica: each replica of the one service that mounts it gets a
	// claim of its own, from its StatefulSet's volumeClaimTemplates.
	perReplica bool
	spec       *corev1ac.PersistentVolumeClaimSpecApplyConfiguration
	// template is the claim template of a per-replica volume.
	template *corev1ac.PersistentVolumeClaimApplyConfiguration
}

// mapVolumes decides, for every named volume a service mounts, whether
// its claim is shared or per replica (doc.go says why), and builds the
// shared claims.
func (m *mapper) mapVolumes() {
	m.volumes, m.claims = map[string]volume{}, map[string]*corev1ac.PersistentVolumeClaimApplyConfiguration{}
	users := map[string][]string{} // volume key -> services mounting it, by name
	for _, name := range m.p.ServiceNames() {
		for _, v := range m.p.Project.Services[name].Volumes {
			if _, ok := m.p.Volumes[v.Source]; ok && v.Type == types.VolumeTypeVolume && !containsString(users[v.Source], name) {
				users[v.Source] = append(users[v.Source], name)
			}
		}
	}
	names := map[string]string{}
	for _, key := range sortedKeys(users) {
		def := m.p.Volumes[key]
		if def.External {
			m.volumes[key] = volume{name: def.Name}
			continue
		}
		settings := m.p.KubernetesVolumeFor(key)
		access := settings.Access
		if access == "" {
			access = manifest.AccessReadWriteOnce
		}
		spec := m.claimSpec(key, settings, access)
		services := users[key]
		perReplica := access != manifest.AccessReadWriteMany && !m.jobs[services[0]] && !m.global[services[0]]
		for _, svc := range services {
			if m.global[svc] && access != manifest.AccessReadWriteMany {
				m.fail(svc, "volumes", ErrSharedVolume,
					fmt.Sprintf("volume %q is a %s claim, and deploy.mode global runs a pod on every node, which such a claim cannot serve", key, access),
					fmt.Sprintf("give it x-stack.kubernetes.volumes.%s.access: ReadWriteMany, or run the service replicated", key))
			}
		}
		if perReplica && len(services) > 1 {
			m.fail(services[1], "volumes", ErrSharedVolume,
				fmt.Sprintf("volume %q is also mounted by %s, and a %s claim serves the pods of one node: each service would get claims of its own", key, strings.Join(others(services, services[1]), ", "), access),
				fmt.Sprintf("share it as compose does with x-stack.kubernetes.volumes.%s.access: ReadWriteMany (a storage class that offers it), or mount it in one service only", key))
		}
		name, ok := objectName(key)
		if perReplica {
			name, ok = labelName(key)
		}
		if prev, dup := names[name]; !ok || dup {
			m.fail("", "volumes."+key, ErrInvalidName, fmt.Sprintf("volume %q gives no claim name of its own (%q, as volume %q)", key, name, prev),
				"rename the volume with lower-case letters, digits and -")
			continue
		}
		names[name] = key
		m.warnVolume(key, def)
		vol := volume{name: name, perReplica: perReplica, spec: spec}
		meta := m.labels("")
		meta[engine.LabelVolume] = key
		if perReplica {
			vol.template = (&corev1ac.PersistentVolumeClaimApplyConfiguration{}).WithName(name).WithLabels(meta).WithSpec(spec)
		} else {
			m.claims[key] = corev1ac.PersistentVolumeClaim(name, m.ns).WithLabels(meta).WithSpec(spec)
		}
		m.volumes[key] = vol
	}
}

// claimSpec is a claim's spec from the volume's x-stack.kubernetes settings.
func (m *mapper) claimSpec(key string, s manifest.KubernetesVolume, access string) *corev1ac.PersistentVolumeClaimSpecApplyConfiguration {
	size := s.Size
	if size == "" {
		size = defaultSize
	}
	q, err := resource.ParseQuantity(size)
	if err != nil {
		m.fail("", manifest.ExtensionKey+".kubernetes.volumes."+key+".size", ErrInvalid,
			fmt.Sprintf("size %q is not a Kubernetes quantity", size), "write it as 10Gi, 500Mi, ...")
	}
	spec := corev1ac.PersistentVolumeClaimSpec().
		WithAccessModes(corev1.PersistentVolumeAccessMode(access)).
		WithResources(corev1ac.VolumeResourceRequirements().WithRequests(corev1.ResourceList{corev1.ResourceStorage: q}))
	if s.Class != "" {
		spec.WithStorageClassName(s.Class)
	}
	return spec
}

// warnVolume names the settings of a volume that a claim has no place for.
func (m *mapper) warnVolume(key string, def types.VolumeConfig) {
	r := "volume:" + key
	if def.Driver != "" && def.Driver != "local" || len(def.DriverOpts) > 0 {
		m.warnings[r] = append(m.warnings[r], "driver, driver_opts: a claim is provisioned by its storage class; set x-stack.kubernetes.volumes."+key+".class")
	}
	if len(def.Labels) > 0 {
		m.warnings[r] = append(m.warnings[r], "labels: claims carry stack's labels only")
	}
}

// podMounts are a pod's volumes (each once), its container's mounts and
// its claim templates, in the order the service writes them.
type podMounts struct {
	vols      []*corev1ac.VolumeApplyConfiguration
	mounts    []*corev1ac.VolumeMountApplyConfiguration
	templates []*corev1ac.PersistentVolumeClaimApplyConfiguration
	seen      map[string]bool
}

func (pm *podMounts) addVolume(v *corev1ac.VolumeApplyConfiguration) {
	if !pm.seen[*v.Name] {
		pm.seen[*v.Name] = true
		pm.vols = append(pm.vols, v)
	}
}

func (pm *podMounts) addTemplate(t *corev1ac.PersistentVolumeClaimApplyConfiguration) {
	if !pm.seen[*t.Name] {
		pm.seen[*t.Name] = true
		pm.templates = append(pm.templates, t)
	}
}

// mounts maps the service's volumes, tmpfs, secrets and configs to the pod's
// volumes and the container's mounts, in the order written; a per-replica
// volume's pod volume comes from the claim templates instead.
func (m *mapper) mounts(s types.ServiceConfig) *podMounts {
	pm := &podMounts{seen: map[string]bool{}}
	for i, v := range s.Volumes {
		if mount := m.volumeMount(s.Name, i, v, pm); mount != nil {
			pm.mounts = append(pm.mounts, mount)
		}
	}
	for i, t := range s.Tmpfs {
		if v, mount, ok := m.tmpfs(s.Name, i, t); ok {
			pm.addVolume(v)
			pm.mounts = append(pm.mounts, mount)
		}
	}
	fv, fm := m.fileMounts(s)
	for _, v := range fv {
		pm.addVolume(v)
	}
	pm.mounts = append(pm.mounts, fm...)
	if len(s.VolumesFrom) > 0 {
		m.warn(s.Name, "volumes_from", "pods share no containers; mount the same named volume instead")
	}
	return pm
}

// volumeMount maps entry i of the service's volumes, adding its pod volume
// (or claim template) to pm; nil when it is not mounted.
func (m *mapper) volumeMount(service string, i int, v types.ServiceVolumeConfig, pm *podMounts) *corev1ac.VolumeMountApplyConfiguration {
	field := fmt.Sprintf("volumes[%d]", i)
	mount := corev1ac.VolumeMount().WithMountPath(v.Target)
	if v.ReadOnly {
		mount.WithReadOnly(true)
	}
	switch {
	case v.Type == types.VolumeTypeBind:
		m.fail(service, field, ErrBindMount,
			fmt.Sprintf("%s is a bind mount of %s, a path of the host: a pod's node has no such file", v.Target, m.hostPath(v.Source)),
			"put the data in a named volume, a file in a config: (configs are mounted where you say), or the image")
		return nil
	case v.Type == types.VolumeTypeVolume && v.Source == "":
		mount.WithName(fmt.Sprintf("anon-%d", i))
		pm.addVolume(corev1ac.Volume().WithName(*mount.Name).WithEmptyDir(corev1ac.EmptyDirVolumeSource()))
	case v.Type == types.VolumeTypeVolume:
		vol, ok := m.volumes[v.Source]
		if !ok {
			return nil // a bad name, reported with the volume
		}
		if v.Volume != nil && v.Volume.Subpath != "" {
			mount.WithSubPath(v.Volume.Subpath)
		}
		if v.Volume != nil && v.Volume.NoCopy {
			m.warn(service, field+".volume.nocopy", "a claim is never filled from the image, nocopy or not")
		}
		podName, _ := labelName(v.Source)
		mount.WithName(podName)
		if vol.perReplica {
			pm.addTemplate(vol.template)
			break
		}
		pm.addVolume(corev1ac.Volume().WithName(podName).WithPersistentVolumeClaim(
			corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(vol.name)))
	case v.Type == types.VolumeTypeTmpfs:
		var size types.UnitBytes
		if v.Tmpfs != nil {
			size = v.Tmpfs.Size
			if v.Tmpfs.Mode != 0 {
				m.warn(service, field+".tmpfs.mode", "an emptyDir's mode is the kubelet's")
			}
		}
		mount.WithName(fmt.Sprintf("tmpfs-%d", i))
		pm.addVolume(memoryDir(*mount.Name, int64(size)))
	default:
		m.warn(service, field, fmt.Sprintf("a %s mount has no Kubernetes volume; it is left out", v.Type))
		return nil
	}
	return mount
}

// tmpfs maps a `tmpfs: /path:size=64m,mode=1777` entry to an in-memory
// emptyDir.
func (m *mapper) tmpfs(service string, i int, entry string) (*corev1ac.VolumeApplyConfiguration, *corev1ac.VolumeMountApplyConfiguration, bool) {
	path, opts, _ := strings.Cut(entry, ":")
	field := fmt.Sprintf("tmpfs[%d]", i)
	var size int64
	for _, o := range strings.Split(opts, ",") {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "":
		case "size":
			n, err := units.RAMInBytes(v)
			if err != nil {
				m.fail(service, field, ErrInvalid, fmt.Sprintf("size %q: %v", v, err), "write it as 64m, 1g, ...")
				return nil, nil, false
			}
			size = n
		default:
			m.warn(service, field+" "+k, "an emptyDir takes a size only")
		}
	}
	name := fmt.Sprintf("tmp-%d", i)
	return memoryDir(name, size), corev1ac.VolumeMount().WithName(name).WithMountPath(path), true
}

// memoryDir is an emptyDir in memory, of at most size bytes when size > 0.
func memoryDir(name string, size int64) *corev1ac.VolumeApplyConfiguration {
	src := corev1ac.EmptyDirVolumeSource().WithMedium(corev1.StorageMediumMemory)
	if size > 0 {
		src.WithSizeLimit(*resource.NewQuantity(size, resource.BinarySI))
	}
	return corev1ac.Volume().WithName(name).WithEmptyDir(src)
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// others lists l without s, quoted.
func others(l []string, s string) []string {
	var out []string
	for _, x := range l {
		if x != s {
			out = append(out, fmt.Sprintf("%q", x))
		}
	}
	return out
}

// hostPath shows a bind mount's source as the compose file most likely
// writes it: relative to the project directory when below it.
func (m *mapper) hostPath(source string) string {
	if rel, ok := strings.CutPrefix(source, m.p.WorkingDir+string(filepath.Separator)); ok {
		return "./" + filepath.ToSlash(rel)
	}
	return source
}
