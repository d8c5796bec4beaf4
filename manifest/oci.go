package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.yaml.in/yaml/v4"
)

// A project published to a registry (`stack publish`, `docker compose
// publish`) is an OCI artifact of Docker Compose's media types: each
// compose file a layer, each env file another. `-f oci://REPO:TAG` loads
// one: its files are downloaded into a cache directory (by the manifest's
// digest, so a tag moved is downloaded again) and loaded from there.
const (
	OCIPrefix = "oci://"
	// ArtifactType is the artifact type of an OCI 1.1 manifest of a project.
	ArtifactType = "application/vnd.docker.compose.project"
	// ComposeFileMediaType is a compose file's layer.
	ComposeFileMediaType = "application/vnd.docker.compose.file+yaml"
	// EnvFileMediaType is an env file's layer.
	EnvFileMediaType = "application/vnd.docker.compose.envfile"
	// EmptyConfigMediaType is the config of an OCI 1.0 manifest of a project.
	EmptyConfigMediaType = "application/vnd.docker.compose.config.empty.v1+json"
	// The layers' annotations: the file's name; extends marks a file that
	// another's `extends` names rather than one of the project's.
	AnnotationFile    = "com.docker.compose.file"
	AnnotationEnvFile = "com.docker.compose.envfile"
	AnnotationExtends = "com.docker.compose.extends"
)

// ErrNotProject: an oci:// reference names something that is not a compose
// project artifact (or one stack cannot read safely).
var ErrNotProject = errors.New("not a compose project artifact")

// resolveRemoteFiles replaces each oci:// file of o with the local files
// of its artifact. With none given, the project directory is the artifact's
// (its env files are there) and the project is named, as Compose names it,
// after the current directory unless its files or the environment name it.
func resolveRemoteFiles(ctx context.Context, o *Options) error {
	var files []string
	remoteDir := ""
	for _, f := range o.Files {
		if !strings.HasPrefix(f, OCIPrefix) {
			files = append(files, f)
			continue
		}
		dir, local, err := pullProject(ctx, strings.TrimPrefix(f, OCIPrefix))
		if err != nil {
			return err
		}
		if remoteDir == "" && len(files) == 0 {
			remoteDir = dir
		}
		files = append(files, local...)
	}
	if len(files) == len(o.Files) && remoteDir == "" {
		return nil
	}
	o.Files = files
	if remoteDir != "" && o.ProjectDirectory == "" {
		o.ProjectDirectory = remoteDir
		if o.ProjectName == "" && os.Getenv("COMPOSE_PROJECT_NAME") == "" && !namesItself(files) {
			wd, err := os.Getwd()
			if err != nil {
				return fmt.Errorf("naming the project: %w", err)
			}
			o.ProjectName = loader.NormalizeProjectName(filepath.Base(wd))
		}
	}
	return nil
}

// namesItself reports whether a compose file has a top-level name.
func namesItself(files []string) bool {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var top struct {
			Name string `yaml:"name"`
		}
		if yaml.Unmarshal(b, &top) == nil && top.Name != "" {
			return true
		}
	}
	return false
}

// pullProject downloads the artifact ref names, unless the cache has it,
// and returns its directory and its compose files in order.
func pullProject(ctx context.Context, ref string) (string, []string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", nil, fmt.Errorf("-f %s%s: %w", OCIPrefix, ref, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return "", nil, fmt.Errorf("pulling the project %s: %w", ref, err)
	}
	raw := desc.Manifest
	if desc.MediaType.IsIndex() {
		if raw, err = projectOfIndex(r, raw, opts); err != nil {
			return "", nil, fmt.Errorf("pulling the project %s: %w", ref, err)
		}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", nil, fmt.Errorf("pulling the project %s: reading its manifest: %w", ref, err)
	}
	if m.ArtifactType != ArtifactType && m.Config.MediaType != EmptyConfigMediaType {
		return "", nil, fmt.Errorf("pulling the project %s: %w (artifact type %q)", ref, ErrNotProject, m.ArtifactType)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", nil, fmt.Errorf("pulling the project %s: %w", ref, err)
	}
	dir := filepath.Join(cache, "stack", "oci", desc.Digest.Hex)
	files, err := writeArtifact(dir, r, m, opts)
	if err != nil {
		return "", nil, fmt.Errorf("pulling the project %s: %w", ref, err)
	}
	return dir, files, nil
}

// projectOfIndex is the manifest of the compose project an index (Compose's
// publish --app) points at.
func projectOfIndex(r name.Reference, raw []byte, opts []remote.Option) ([]byte, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, err
	}
	for _, d := range idx.Manifests {
		if d.ArtifactType == ArtifactType {
			desc, err := remote.Get(r.Context().Digest(d.Digest.String()), opts...)
			if err != nil {
				return nil, err
			}
			return desc.Manifest, nil
		}
	}
	return nil, fmt.Errorf("%w: the index points at no compose project", ErrNotProject)
}

// writeArtifact writes the layers of m into dir (a new directory renamed
// into place once complete) and returns its compose files.
func writeArtifact(dir string, r name.Reference, m ocispec.Manifest, opts []remote.Option) ([]string, error) {
	var files []string
	n := 0
	for _, l := range m.Layers {
		if l.MediaType != ComposeFileMediaType || l.Annotations[AnnotationExtends] != "" {
			continue
		}
		file := "compose.yaml"
		if n > 0 {
			file = fmt.Sprintf("compose.%d.yaml", n)
		}
		n++
		files = append(files, filepath.Join(dir, file))
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: the artifact holds no compose file", ErrNotProject)
	}
	if _, err := os.Stat(dir); err == nil {
		return files, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".pull-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	n = 0
	for _, l := range m.Layers {
		var file string
		switch {
		case l.MediaType == ComposeFileMediaType && l.Annotations[AnnotationExtends] != "":
			file = l.Annotations[AnnotationFile]
		case l.MediaType == ComposeFileMediaType:
			file = filepath.Base(files[n])
			n++
		case l.MediaType == EnvFileMediaType:
			file = l.Annotations[AnnotationEnvFile]
		default:
			continue
		}
		if file == "" || file != filepath.Base(file) || strings.HasPrefix(file, ".") {
			return nil, fmt.Errorf("%w: a layer's file name %q is not a plain name", ErrNotProject, file)
		}
		if err := writeBlob(r, l, filepath.Join(tmp, file), opts); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, err
		}
	}
	return files, nil
}

func writeBlob(r name.Reference, l ocispec.Descriptor, path string, opts []remote.Option) error {
	layer, err := remote.Layer(r.Context().Digest(l.Digest.String()), opts...)
	if err != nil {
		return err
	}
	rc, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("downloading %s: %w", filepath.Base(path), err)
	}
	defer rc.Close()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.LimitReader(rc, l.Size)); err != nil {
		f.Close()
		return fmt.Errorf("downloading %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}
