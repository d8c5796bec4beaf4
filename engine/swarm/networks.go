package swarm

import (
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	"github.com/stack-deploy/stack/engine"
)

// networks maps the project's networks to swarm-scoped ones, overlay unless
// the compose file names another driver that can span nodes.
func (m *mapper) networks() []Network {
	var out []Network
	for _, key := range slices.Sorted(maps.Keys(m.p.Networks)) {
		n := m.p.Networks[key]
		field := "networks." + key
		if n.External {
			out = append(out, Network{Key: key, Name: nonEmpty(n.Name, key), External: true})
			continue
		}
		spec := network.CreateOptions{
			Driver:     n.Driver,
			Scope:      "swarm",
			Attachable: n.Attachable,
			Internal:   n.Internal,
			Options:    n.DriverOpts,
			EnableIPv6: n.EnableIPv6,
		}
		switch n.Driver {
		case "", "overlay":
			spec.Driver = "overlay"
		case "bridge":
			m.warn("", field+".driver bridge", "a bridge network cannot span nodes; an overlay network is made instead")
			spec.Driver = "overlay"
		}
		if n.EnableIPv4 != nil && !m.tooOld("", field+".enable_ipv4", "1.47") {
			spec.EnableIPv4 = n.EnableIPv4
		}
		if n.Ipam.Driver != "" || len(n.Ipam.Config) > 0 || len(n.Ipam.Options) > 0 {
			spec.IPAM = &network.IPAM{Driver: n.Ipam.Driver, Options: n.Ipam.Options}
			for _, c := range n.Ipam.Config {
				spec.IPAM.Config = append(spec.IPAM.Config, network.IPAMConfig{Subnet: c.Subnet, Gateway: c.Gateway, IPRange: c.IPRange, AuxAddress: c.AuxiliaryAddresses})
			}
		}
		spec.Labels = stackLabels(n.Labels, engine.LabelProject, m.p.Name, engine.LabelNetwork, key)
		// The compose definition's hash, as engine.Diff computes it to tell
		// a changed definition.
		hash, err := engine.ResourceHash(n)
		if err != nil {
			m.fail("", field, err)
			continue
		}
		spec.Labels[engine.LabelConfigHash] = hash
		out = append(out, Network{Key: key, Name: n.Name, Spec: spec})
	}
	return out
}

// attachments are the networks a service's tasks join, in compose's
// priority order, each with the service's name as an alias (its address,
// as on one engine) and the aliases of the compose file.
func (m *mapper) attachments(s types.ServiceConfig) []swarm.NetworkAttachmentConfig {
	switch {
	case s.NetworkMode == "host":
		return []swarm.NetworkAttachmentConfig{{Target: "host"}}
	case s.NetworkMode != "":
		m.warn(s.Name, "network_mode "+s.NetworkMode, "Swarm tasks join overlay networks or the host network only")
		return nil
	}
	var out []swarm.NetworkAttachmentConfig
	for _, key := range s.NetworksByPriority() {
		cfg := s.Networks[key]
		att := swarm.NetworkAttachmentConfig{Target: nonEmpty(m.p.Networks[key].Name, key)}
		if cfg.ServiceNameAliasEnabled() {
			att.Aliases = []string{s.Name}
		}
		if cfg != nil {
			att.Aliases = append(att.Aliases, cfg.Aliases...)
			att.DriverOpts = cfg.DriverOpts
			field := "networks." + key + "."
			for _, f := range []struct {
				set  bool
				name string
			}{
				{cfg.Ipv4Address != "", "ipv4_address"}, {cfg.Ipv6Address != "", "ipv6_address"},
				{len(cfg.LinkLocalIPs) > 0, "link_local_ips"}, {cfg.MacAddress != "", "mac_address"},
				{cfg.InterfaceName != "", "interface_name"}, {cfg.GatewayPriority != 0, "gw_priority"},
			} {
				if f.set {
					m.warn(s.Name, field+f.name, "Swarm allocates each task's endpoint itself")
				}
			}
		}
		out = append(out, att)
	}
	return out
}

// volumes maps the project's named volumes. Every node creates a volume
// itself when a task first mounts it there, from the driver and labels the
// mount carries (see mounts), so Spec is what each node creates.
func (m *mapper) volumes() []Volume {
	var out []Volume
	for _, key := range slices.Sorted(maps.Keys(m.p.Volumes)) {
		v := m.p.Volumes[key]
		if v.External {
			out = append(out, Volume{Key: key, Name: nonEmpty(v.Name, key), External: true})
			continue
		}
		spec := volume.CreateOptions{Name: v.Name, Driver: v.Driver, DriverOpts: v.DriverOpts}
		spec.Labels = stackLabels(v.Labels, engine.LabelProject, m.p.Name, engine.LabelVolume, key)
		hash, err := engine.ResourceHash(v) // as for networks

		if err != nil {
			m.fail("", "volumes."+key, err)
			continue
		}
		spec.Labels[engine.LabelConfigHash] = hash
		out = append(out, Volume{Key: key, Name: v.Name, Spec: spec})
	}
	return out
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
