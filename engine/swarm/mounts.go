package swarm

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-units"

	"github.com/stack-deploy/stack/engine"
)

// mounts maps the service's volumes and tmpfs entries, in the order written.
func (m *mapper) mounts(s types.ServiceConfig) []mount.Mount {
	var out []mount.Mount
	for _, v := range s.Volumes {
		field := "volumes " + v.Target + ": "
		mt := mount.Mount{Target: v.Target, ReadOnly: v.ReadOnly, Consistency: mount.Consistency(v.Consistency)}
		switch v.Type {
		case types.VolumeTypeVolume:
			mt.Type = mount.TypeVolume
			mt.VolumeOptions = m.volumeOptions(s, v, field)
			if vol, ok := m.vols[v.Source]; ok && v.Source != "" {
				mt.Source = vol.Name
			}
		case types.VolumeTypeBind:
			mt.Type, mt.Source = mount.TypeBind, v.Source
			mt.BindOptions = m.bindOptions(s, v, field)
		case types.VolumeTypeTmpfs:
			mt.Type = mount.TypeTmpfs
			if v.Tmpfs != nil {
				mt.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size), Mode: os.FileMode(v.Tmpfs.Mode)}
			}
		default:
			m.warn(s.Name, field+"type "+v.Type, "Swarm services mount volumes, binds and tmpfs only")
			continue
		}
		out = append(out, mt)
	}
	for _, t := range s.Tmpfs {
		if mt, ok := m.tmpfs(s, t); ok {
			out = append(out, mt)
		}
	}
	if len(s.VolumesFrom) > 0 {
		m.warn(s.Name, "volumes_from", "tasks share no containers; share a named volume instead")
	}
	return out
}

// volumeOptions carry what a node needs to create the volume when a task
// first mounts it there: the top-level volume's driver and labels, so it is
// found by the project label on every node.
func (m *mapper) volumeOptions(s types.ServiceConfig, v types.ServiceVolumeConfig, field string) *mount.VolumeOptions {
	o := &mount.VolumeOptions{}
	var labels map[string]string
	if v.Volume != nil {
		o.NoCopy = v.Volume.NoCopy
		labels = v.Volume.Labels
		if v.Volume.Subpath != "" && !m.tooOld(s.Name, field+"volume.subpath", "1.45") {
			o.Subpath = v.Volume.Subpath
		}
	}
	vol, named := m.vols[v.Source]
	switch {
	case v.Source == "":
		// An anonymous volume: each task gets its own, labelled for down -v.
		o.Labels = stackLabels(labels, engine.LabelProject, m.p.Name)
	case named && vol.External:
		o.Labels = labels
	case named:
		o.Labels = stackLabels(labels)
		for k, val := range vol.Spec.Labels {
			o.Labels[k] = val
		}
		if vol.Spec.Driver != "" || len(vol.Spec.DriverOpts) > 0 {
			o.DriverConfig = &mount.Driver{Name: vol.Spec.Driver, Options: vol.Spec.DriverOpts}
		}
	}
	if len(o.Labels) == 0 {
		o.Labels = nil
	}
	return o
}

// bindOptions map propagation and recursion. A bind source is a path on
// whichever node runs the task, and Swarm, unlike a single engine, does not
// create a missing one.
func (m *mapper) bindOptions(s types.ServiceConfig, v types.ServiceVolumeConfig, field string) *mount.BindOptions {
	if v.Bind == nil {
		return nil
	}
	if v.Bind.CreateHostPath {
		m.warn(s.Name, field+"bind.create_host_path", "the source must exist on every node that may run the task; Swarm does not create it")
	}
	if v.Bind.SELinux != "" {
		m.warn(s.Name, field+"bind.selinux", "Swarm's mount API has no SELinux relabelling")
	}
	o := &mount.BindOptions{Propagation: mount.Propagation(v.Bind.Propagation)}
	switch v.Bind.Recursive {
	case "", "enabled":
	case "disabled":
		o.NonRecursive = true
	case "writable", "readonly":
		if !m.tooOld(s.Name, field+"bind.recursive "+v.Bind.Recursive, "1.44") {
			o.ReadOnlyNonRecursive = v.Bind.Recursive == "writable"
			o.ReadOnlyForceRecursive = v.Bind.Recursive == "readonly"
		}
	default:
		m.fail(s.Name, field+"bind.recursive", fmt.Errorf("%w: %q; use enabled, disabled, writable or readonly", ErrInvalid, v.Bind.Recursive))
	}
	if *o == (mount.BindOptions{}) {
		return nil
	}
	return o
}

// tmpfs maps a `tmpfs: /path:size=64m,mode=1777` entry. Size and mode have
// fields of their own; other options need API 1.46.
func (m *mapper) tmpfs(s types.ServiceConfig, entry string) (mount.Mount, bool) {
	path, opts, _ := strings.Cut(entry, ":")
	mt := mount.Mount{Type: mount.TypeTmpfs, Target: path, TmpfsOptions: &mount.TmpfsOptions{}}
	var rest [][]string
	for _, o := range strings.Split(opts, ",") {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "":
		case "size":
			n, err := units.RAMInBytes(v)
			if err != nil {
				m.fail(s.Name, "tmpfs "+entry, fmt.Errorf("%w: size %q: %v", ErrInvalid, v, err))
				return mt, false
			}
			mt.TmpfsOptions.SizeBytes = n
		case "mode":
			n, err := strconv.ParseUint(v, 8, 32)
			if err != nil {
				m.fail(s.Name, "tmpfs "+entry, fmt.Errorf("%w: mode %q is not an octal number", ErrInvalid, v))
				return mt, false
			}
			mt.TmpfsOptions.Mode = os.FileMode(n)
		default:
			if v == "" {
				rest = append(rest, []string{k})
			} else {
				rest = append(rest, []string{k, v})
			}
		}
	}
	if len(rest) > 0 && !m.tooOld(s.Name, "tmpfs "+entry+": options other than size and mode", "1.46") {
		mt.TmpfsOptions.Options = rest
	}
	if o := mt.TmpfsOptions; o.SizeBytes == 0 && o.Mode == 0 && len(o.Options) == 0 {
		mt.TmpfsOptions = nil
	}
	return mt, true
}
