package kube

import (
	"context"
	"errors"
	"fmt"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.StatsReader = (*Driver)(nil)

// metricsGroup is the API group of the resource metrics the kubelets'
// figures are served under, by metrics-server or an adapter.
const metricsGroup = "metrics.k8s.io"

// ErrNoMetricsAPI: the cluster serves no resource metrics, so stack stats
// has no figures to show, and shows none rather than made-up ones.
var ErrNoMetricsAPI = errors.New("the cluster has no metrics API (metrics.k8s.io), which serves the pods' CPU and memory: install metrics-server (kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml, or your distribution's add-on: minikube addons enable metrics-server), then run stack stats again")

// Stats reads the CPU and memory of the project's pods from the cluster's
// metrics API (metrics.k8s.io) when it serves one, else returns
// ErrNoMetricsAPI, saying how to get one.
func (d *Driver) Stats(ctx context.Context, project string, o engine.StatsOptions, sample func(engine.Sample)) error {
	ok, err := d.hasMetricsAPI()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("stack stats: %w", ErrNoMetricsAPI)
	}
	return d.podMetrics(ctx, project, o, sample)
}

// hasMetricsAPI says whether the API server serves metrics.k8s.io.
func (d *Driver) hasMetricsAPI() (bool, error) {
	groups, err := d.client.Discovery().ServerGroups()
	if err != nil {
		return false, fmt.Errorf("reading the cluster's API groups: %w", err)
	}
	for _, g := range groups.Groups {
		if g.Name == metricsGroup {
			return true, nil
		}
	}
	return false, nil
}
