package kube

import (
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// service returns the mapped service of name.
func (o *Objects) service(name string) (Service, bool) {
	for _, s := range o.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// forService lists the objects one service's apply sends, in order: the
// namespace, the ApplySet's parent, the config maps, secrets and shared claims its pods mount,
// its Services, then its workload.
func (o *Objects) forService(s Service, p *manifest.Project, parent any) []any {
	svc := p.Project.Services[s.Name]
	configs, secrets, volumes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range svc.Configs {
		configs[c.Source] = true
	}
	for _, c := range svc.Secrets {
		secrets[c.Source] = true
	}
	for _, v := range svc.Volumes {
		volumes[v.Source] = true
	}
	out := []any{o.Namespace, parent}
	for _, c := range o.ConfigMaps {
		if configs[c.Labels[LabelConfig]] {
			out = append(out, c)
		}
	}
	for _, c := range o.Secrets {
		if secrets[c.Labels[LabelSecret]] {
			out = append(out, c)
		}
	}
	for _, c := range o.Claims {
		if volumes[c.Labels[engine.LabelVolume]] {
			out = append(out, c)
		}
	}
	out = append(out, s.Service)
	if s.Published != nil {
		out = append(out, s.Published)
	}
	return append(out, s.workload())
}

// workload is the service's one workload object.
func (s Service) workload() any {
	switch s.Kind {
	case StatefulSet:
		return s.StatefulSet
	case Job:
		return s.Job
	case DaemonSet:
		return s.DaemonSet
	}
	return s.Deployment
}

// replicas is the replica count the service's workload asks for.
func (s Service) replicas() int32 {
	switch {
	case s.Deployment != nil && s.Deployment.Spec != nil && s.Deployment.Spec.Replicas != nil:
		return *s.Deployment.Spec.Replicas
	case s.StatefulSet != nil && s.StatefulSet.Spec != nil && s.StatefulSet.Spec.Replicas != nil:
		return *s.StatefulSet.Spec.Replicas
	}
	return 1
}
