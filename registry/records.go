package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/manifest"
)

// An environment's release history is kept in its registry, beside the
// images, as OCI artifacts in one repository, <registry>/RecordsRepository:
// one artifact per record (a lock, a deploy, a verification), each under a
// tag of its own and never rewritten. Concurrent writers (two CI runners)
// thus never lose each other's records: there is no shared document to
// read, modify and write back, and registries offer no compare-and-swap to
// do that safely. Reading lists the repository's tags and fetches each
// record's manifest, which carries the record itself (the layer's data is
// embedded in its descriptor, OCI 1.1), so one request reads one record.
//
// A record's tag is <kind>-<id>: lock-<the lock's sha256> for a lock (so
// storing one lock twice writes the same artifact), and
// deploy-<time>-<random> or verify-<time>-<random> for the others.

// RecordsRepository is the repository, below an environment's registry
// prefix, that holds its release history.
const RecordsRepository = "stack-releases"

// Media types of a record artifact.
const (
	// RecordArtifactType is the artifactType of a record's manifest, and the
	// media type of its one layer: the record as JSON.
	RecordArtifactType = "application/vnd.stack.release.record.v1+json"
	// emptyConfigType is OCI's empty config descriptor, for artifacts.
	emptyConfigType = "application/vnd.oci.empty.v1+json"
)

// Record kinds.
const (
	RecordLock   = "lock"
	RecordDeploy = "deploy"
	RecordVerify = "verify"
)

// Record is one entry of an environment's release history.
type Record struct {
	Kind        string `json:"kind"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	// One of these, as Kind says.
	Lock         *Lock         `json:"lock,omitempty"`
	Deploy       *Deploy       `json:"deploy,omitempty"`
	Verification *Verification `json:"verification,omitempty"`
}

// tag is the record's tag in the repository.
func (r Record) tag() (string, error) {
	switch r.Kind {
	case RecordLock:
		return "lock-" + strings.TrimPrefix(LockID(r.Lock), "sha256:"), nil
	case RecordDeploy:
		return "deploy-" + r.Deploy.Time.UTC().Format(timeLayout) + "-" + r.Deploy.ID, nil
	case RecordVerify:
		return "verify-" + r.Verification.Time.UTC().Format(timeLayout) + "-" + r.Verification.ID, nil
	}
	return "", fmt.Errorf("record of unknown kind %q", r.Kind)
}

// LockID identifies a lock wherever it is stored: sha256:<hex> of the lock
// as Marshal writes it.
func LockID(l *Lock) string {
	b, err := l.Marshal()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// newRecordID is a random id for a deploy or verification record.
func newRecordID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Records is the history kept in one environment's registry.
type Records struct {
	repo name.Repository
	p    *Promoter
}

// Records returns the history repository of the environment whose registry
// prefix is registry.
func (p *Promoter) Records(registry string) (*Records, error) {
	repo, err := name.NewRepository(manifest.EnvironmentRepository(registry, RecordsRepository), name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("naming the release history's repository in %q: %w", registry, err)
	}
	return &Records{repo: repo, p: p}, nil
}

// Repository names the repository the records live in.
func (r *Records) Repository() string { return r.repo.Name() }

// Put stores rec as an artifact of its own, unless its tag is there
// already: a lock stored again (promoting the same release twice) writes
// nothing.
func (r *Records) Put(ctx context.Context, rec Record) error {
	tag, err := rec.tag()
	if err != nil {
		return err
	}
	puller, err := newPuller(ctx, r.p)
	if err != nil {
		return err
	}
	if _, err := puller.Head(ctx, r.repo.Tag(tag)); err == nil {
		return nil
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	pusher, err := newPusher(ctx, r.p)
	if err != nil {
		return err
	}
	config := static.NewLayer([]byte("{}"), emptyConfigType)
	layer := static.NewLayer(body, RecordArtifactType)
	for _, l := range []v1.Layer{config, layer} {
		if err := pusher.Upload(ctx, r.repo, l); err != nil {
			return fmt.Errorf("storing a %s record in %s: %w", rec.Kind, r.repo, err)
		}
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  RecordArtifactType,
		Config:        descriptor([]byte("{}"), emptyConfigType),
		Layers:        []v1.Descriptor{descriptor(body, RecordArtifactType)},
		Annotations: map[string]string{
			"org.opencontainers.image.created": time.Now().UTC().Format(time.RFC3339),
			"io.stack.kind":                    rec.Kind,
			"io.stack.project":                 rec.Project,
			"io.stack.environment":             rec.Environment,
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := pusher.Push(ctx, r.repo.Tag(tag), rawManifest(raw)); err != nil {
		return fmt.Errorf("storing a %s record in %s: %w", rec.Kind, r.repo, err)
	}
	return nil
}

// descriptor describes b, embedding it (OCI 1.1's data field).
func descriptor(b []byte, mt types.MediaType) v1.Descriptor {
	sum := sha256.Sum256(b)
	return v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, Data: b}
}

// List reads every record of project's environment env, in no order.
// A repository that does not exist yet holds no record.
func (r *Records) List(ctx context.Context, project, env string) ([]Record, error) {
	puller, err := newPuller(ctx, r.p)
	if err != nil {
		return nil, err
	}
	tags, err := puller.List(ctx, r.repo)
	if isNotFound(err) || isNameUnknown(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the release history in %s: %w", r.repo, err)
	}
	var (
		mu  sync.Mutex
		out []Record
	)
	err = dag.Each(ctx, len(tags), 8, func(ctx context.Context, i int) error {
		if !strings.HasPrefix(tags[i], RecordLock+"-") && !strings.HasPrefix(tags[i], RecordDeploy+"-") && !strings.HasPrefix(tags[i], RecordVerify+"-") {
			return nil
		}
		rec, err := r.get(ctx, puller, tags[i])
		if err != nil {
			return fmt.Errorf("reading record %s:%s: %w", r.repo, tags[i], err)
		}
		if rec.Project != project || rec.Environment != env {
			return nil
		}
		mu.Lock()
		out = append(out, rec)
		mu.Unlock()
		return nil
	})
	return out, err
}

// get reads the record under tag: from the data its manifest embeds, else
// from its layer.
func (r *Records) get(ctx context.Context, puller *remote.Puller, tag string) (Record, error) {
	var rec Record
	desc, err := puller.Get(ctx, r.repo.Tag(tag))
	if err != nil {
		return rec, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return rec, err
	}
	if m.ArtifactType != RecordArtifactType || len(m.Layers) != 1 {
		return rec, fmt.Errorf("not a release record (artifactType %q)", m.ArtifactType)
	}
	l := m.Layers[0]
	body := l.Data
	if sum := sha256.Sum256(body); len(body) == 0 || hex.EncodeToString(sum[:]) != l.Digest.Hex {
		layer, err := puller.Layer(ctx, r.repo.Digest(l.Digest.String()))
		if err != nil {
			return rec, err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return rec, err
		}
		defer rc.Close()
		if body, err = io.ReadAll(io.LimitReader(rc, 16<<20)); err != nil {
			return rec, err
		}
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		return rec, err
	}
	if (rec.Kind == RecordLock && rec.Lock == nil) || (rec.Kind == RecordDeploy && rec.Deploy == nil) || (rec.Kind == RecordVerify && rec.Verification == nil) {
		return rec, fmt.Errorf("a %s record without its %s", rec.Kind, rec.Kind)
	}
	return rec, nil
}

// isNameUnknown: the registry knows no such repository.
func isNameUnknown(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	for _, d := range terr.Errors {
		if d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return terr.StatusCode == http.StatusNotFound
}
