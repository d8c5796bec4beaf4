package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.yaml.in/yaml/v4"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// ErrPublishEnv: a service of a project to publish sets environment
// variables and --with-env was not given.
var ErrPublishEnv = errors.New("environment variables not published")

// ErrPublishBuild: a service of a project to publish is built, with no
// image a registry has.
var ErrPublishBuild = errors.New("service has no image to pull")

// PublishOptions are `stack publish`'s flags.
type PublishOptions struct {
	// WithEnv publishes the services' env files, and allows services that
	// set environment variables: anyone who can pull reads them.
	WithEnv bool
	// Keychain is where credentials come from; nil: the Docker config.
	Keychain authn.Keychain
}

// Publish pushes p's compose files (and, WithEnv, its services' env files)
// to repo as an OCI artifact of Docker Compose's media types, so that
// `stack -f oci://repo up` and `docker compose -f oci://repo up` both load
// it. The compose files go as written (not interpolated); each env_file is
// renamed in them to the name its layer carries. It returns the manifest's
// digest.
func Publish(ctx context.Context, p *manifest.Project, repo string, o PublishOptions) (string, error) {
	ref, err := name.ParseReference(repo)
	if err != nil {
		return "", fmt.Errorf("publishing to %q: %w", repo, err)
	}
	for _, n := range p.ServiceNames() {
		if s := p.Project.Services[n]; s.Build != nil && s.Image == "" {
			return "", fmt.Errorf("service %q has a build section and no image: name the image it is pushed as (image:), push it with stack push, then publish: %w", n, ErrPublishBuild)
		}
	}
	layers, err := projectLayers(p, o.WithEnv)
	if err != nil {
		return "", err
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	progress.Report(ctx, "project:"+p.Name, "publish", progress.Working, ref.String(), nil)
	config := ocispec.DescriptorEmptyJSON
	for _, l := range append([]ocispec.Descriptor{config}, layers...) {
		if err := remote.WriteLayer(ref.Context(), static.NewLayer(l.Data, types.MediaType(l.MediaType)), opts...); err != nil {
			progress.Report(ctx, "project:"+p.Name, "publish", progress.Failed, ref.String(), err)
			return "", fmt.Errorf("publishing to %s: %w", ref, err)
		}
	}
	for i := range layers {
		layers[i].Data = nil
	}
	config.Data = nil
	raw, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: manifest.ArtifactType, Config: config, Layers: layers,
		Annotations: map[string]string{ocispec.AnnotationCreated: time.Now().UTC().Format(time.RFC3339)},
	})
	if err != nil {
		return "", err
	}
	if err := remote.Put(ref, rawManifest(raw), opts...); err != nil {
		progress.Report(ctx, "project:"+p.Name, "publish", progress.Failed, ref.String(), err)
		return "", fmt.Errorf("publishing to %s: %w", ref, err)
	}
	d := digest.FromBytes(raw).String()
	progress.Report(ctx, "project:"+p.Name, "publish", progress.Done, ref.String()+"@"+d, nil)
	return d, nil
}

// projectLayers are the compose files' layers, in order, then the env
// files' (by name, each once).
func projectLayers(p *manifest.Project, withEnv bool) ([]ocispec.Descriptor, error) {
	var layers []ocispec.Descriptor
	envFiles := map[string]string{} // layer name -> path
	for _, file := range p.ComposeFiles {
		content, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("publishing %s: %w", file, err)
		}
		content, err = renameEnvFiles(file, content, withEnv, envFiles)
		if err != nil {
			return nil, err
		}
		layers = append(layers, layer(manifest.ComposeFileMediaType, manifest.AnnotationFile, filepath.Base(file), content))
	}
	names := make([]string, 0, len(envFiles))
	for n := range envFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		content, err := os.ReadFile(envFiles[n])
		if err != nil {
			return nil, fmt.Errorf("publishing the env file %s: %w", envFiles[n], err)
		}
		layers = append(layers, layer(manifest.EnvFileMediaType, manifest.AnnotationEnvFile, n, content))
	}
	return layers, nil
}

func layer(mediaType, annotation, file string, content []byte) ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType: mediaType, Digest: digest.FromBytes(content), Size: int64(len(content)),
		Annotations: map[string]string{annotation: file}, Data: content,
	}
}

// renameEnvFiles rewrites each service's env_file in a compose file to the
// name of its layer (the SHA-256 of its path, as Compose names it), adding
// it to envFiles. Without withEnv, a service that sets variables (env_file
// or environment) is refused, as Compose refuses it.
func renameEnvFiles(file string, content []byte, withEnv bool, envFiles map[string]string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, fmt.Errorf("publishing %s: %w", file, err)
	}
	services := mapValue(docRoot(&doc), "services")
	if services == nil {
		return content, nil
	}
	changed := false
	for i := 0; i+1 < len(services.Content); i += 2 {
		svc, body := services.Content[i].Value, services.Content[i+1]
		env := mapValue(body, "env_file")
		if !withEnv && (env != nil || mapValue(body, "environment") != nil) {
			return nil, fmt.Errorf("%s: service %q sets environment variables: publish them with --with-env (anyone who can pull the artifact reads them), or remove them: %w", file, svc, ErrPublishEnv)
		}
		if env == nil {
			continue
		}
		for _, n := range envPathNodes(env) {
			path := n.Value
			if !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(file), path)
			}
			if _, err := os.Stat(path); err != nil {
				continue // an optional env file that is not there: left as written
			}
			hashed := fmt.Sprintf("%x.env", sha256.Sum256([]byte(path)))
			envFiles[hashed] = path
			n.Value, changed = hashed, true
		}
	}
	if !changed {
		return content, nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("publishing %s: %w", file, err)
	}
	return b.Bytes(), nil
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0]
	}
	return doc
}

// mapValue is the value of key in mapping n, nil when absent.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// envPathNodes are the path scalars of an env_file value: a path, a list
// of paths, or a list of {path, required}.
func envPathNodes(n *yaml.Node) []*yaml.Node {
	switch n.Kind {
	case yaml.ScalarNode:
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, e := range n.Content {
			if e.Kind == yaml.ScalarNode {
				out = append(out, e)
			} else if p := mapValue(e, "path"); p != nil {
				out = append(out, p)
			}
		}
		return out
	}
	return nil
}

// rawManifest is a manifest go-containerregistry pushes as it is.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (m rawManifest) Size() (int64, error)                { return int64(len(m)), nil }
func (m rawManifest) Digest() (v1.Hash, error)            { return v1.NewHash(digest.FromBytes(m).String()) }
