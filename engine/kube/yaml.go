package kube

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"
)

// YAML renders the objects as one multi-document YAML stream, in List's
// order, each document's keys sorted: the same objects give the same bytes,
// for a GitOps repository (Argo CD, Flux) or `kubectl apply -f -` to take.
// Secrets carry their values, base64-encoded, as `kubectl create secret
// --dry-run=client -o yaml` prints them.
func (o *Objects) YAML() ([]byte, error) {
	var b bytes.Buffer
	for i, obj := range o.List() {
		doc, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("rendering object %d as YAML: %w", i, err)
		}
		b.WriteString("---\n")
		b.Write(doc)
	}
	return b.Bytes(), nil
}
