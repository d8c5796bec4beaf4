package e2e

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry credentials: every test registry accepts exactly these over HTTP
// basic auth, so pushes and copies prove that auth from the Docker config works.
const (
	RegistryUser     = "stack"
	RegistryPassword = "s3cret-for-tests"
)

// Registry is go-containerregistry's in-memory registry served on
// 127.0.0.1:<free port> behind HTTP basic auth, counting what crosses it.
// Blobs belong to repositories as in Docker Distribution (and most real
// registries): a blob pushed to one repository is unknown in another until
// it is uploaded there too or mounted from a repository that has it.
// The Docker engine treats 127.0.0.0/8 as insecure (plain HTTP) by default,
// so the daemon can push to and pull from it as well.
type Registry struct {
	// Host is "127.0.0.1:<port>", the registry part of image references.
	Host string

	srv       *http.Server
	blobs     *repoBlobs
	stopOnce  sync.Once
	stopAfter atomic.Int64 // > 0: stop when the request count reaches it
	stopped   atomic.Bool

	mu    sync.Mutex
	stats RegistryStats
}

// RegistryStats counts the authenticated requests a Registry served since it
// started or since the last Reset. Requests refused for missing credentials
// (the 401 challenge every client gets first) count in Unauthorized only.
type RegistryStats struct {
	Requests     int64 // authenticated requests
	Unauthorized int64 // requests answered 401
	BytesIn      int64 // request body bytes received
	BytesOut     int64 // response body bytes sent
	// BlobUploads counts upload sessions started (POST .../blobs/uploads/).
	BlobUploads int64
	// Mounts counts cross-repository blob mounts the registry made
	// (POST .../blobs/uploads/?mount=<digest>&from=<repo> answered 201).
	Mounts int64
	// BlobBytesIn is request body bytes of blob uploads (PATCH/PUT on
	// .../blobs/uploads/...): layer and config data actually transferred in.
	BlobBytesIn int64
	// BlobReads counts GETs of blobs (HEAD, an existence check, is not one).
	BlobReads int64
	// BlobBytesOut is response body bytes of blob GETs.
	BlobBytesOut int64
	// ManifestWrites counts PUTs of manifests (tags or digests).
	ManifestWrites int64
}

// StartRegistry starts a registry for the test and stops it when the test ends.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for a test registry: %v", err)
	}
	r := &Registry{Host: ln.Addr().String()}
	r.blobs = &repoBlobs{store: registry.NewInMemoryBlobHandler(), links: map[string]map[string]bool{}}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(r.blobs))
	r.srv = &http.Server{Handler: r.handler(inner), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	t.Cleanup(r.Stop)
	return r
}

// Stop takes the registry down at once: the listener and every open
// connection are closed, so clients see refused or reset connections, as when
// a real registry goes away in the middle of an operation.
func (r *Registry) Stop() {
	r.stopOnce.Do(func() {
		r.stopped.Store(true)
		_ = r.srv.Close()
	})
}

// StopAfter arms the registry to go down (as Stop) once it has served n more
// authenticated requests from now: the n-th is answered, later ones are not.
// It lets a test break an operation run by the stack binary half way.
func (r *Registry) StopAfter(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopAfter.Store(r.stats.Requests + int64(n))
}

// Stats returns the counters.
func (r *Registry) Stats() RegistryStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Reset zeroes the counters, e.g. between the first and second of two
// promotions, so the second can be shown to move nothing.
func (r *Registry) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats = RegistryStats{}
	r.stopAfter.Store(0)
}

// RemoveImagesAtCleanup makes the end of the test remove the engine's
// images of this registry (see RemoveImages).
func (r *Registry) RemoveImagesAtCleanup(t testing.TB) {
	t.Helper()
	t.Cleanup(func() { r.RemoveImages(t) })
}

// RemoveImages removes, from the Docker engine, every image name that
// points into this registry (<host>/...:tag and <host>/...@digest): the
// names a test's pushes and pulls left behind. Images that keep another name
// are only untagged.
func (r *Registry) RemoveImages(t testing.TB) {
	t.Helper()
	out := Docker(t, "images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}")
	var refs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || !strings.HasPrefix(f[0], r.Host+"/") {
			continue
		}
		if f[1] != "<none>" {
			refs = append(refs, f[0]+":"+f[1])
		}
		if f[2] != "<none>" {
			refs = append(refs, f[0]+"@"+f[2])
		}
	}
	for _, ref := range refs {
		// Removing a tag can remove the image, and with it the digest name.
		if out, err := exec.Command("docker", "rmi", ref).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such image") {
			t.Logf("removing %s: %v\n%s", ref, err, out)
		}
	}
}

// Ref returns the image reference "<host>/<repo>" on this registry.
func (r *Registry) Ref(repo string) string { return r.Host + "/" + repo }

// RegistryAuth is the remote option that logs in to every test registry.
var RegistryAuth = remote.WithAuth(&authn.Basic{Username: RegistryUser, Password: RegistryPassword})

// RegistryDigest asks a test registry for the manifest digest of ref
// (<host>/<repo>:<tag>), failing the test when it has none.
func RegistryDigest(t testing.TB, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r, RegistryAuth)
	if err != nil {
		t.Fatalf("HEAD %s: %v", ref, err)
	}
	return d.Digest.String()
}

func (r *Registry) handler(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.stopped.Load() {
			// Between Stop and the server closing this connection.
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					_ = c.Close()
					return
				}
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if !r.authorized(req) {
			r.mu.Lock()
			r.stats.Unauthorized++
			r.mu.Unlock()
			w.Header().Set("WWW-Authenticate", `Basic realm="stack-test-registry"`)
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		if r.mount(w, req) {
			return
		}
		body := &countingReader{r: req.Body}
		req.Body = body
		cw := &countingWriter{ResponseWriter: w}
		inner.ServeHTTP(cw, req)

		kind := classify(req)
		r.mu.Lock()
		s := &r.stats
		s.Requests++
		s.BytesIn += body.n
		s.BytesOut += cw.n
		switch kind {
		case reqBlobUploadStart:
			s.BlobUploads++
			s.BlobBytesIn += body.n
		case reqBlobUploadData:
			s.BlobBytesIn += body.n
		case reqBlobRead:
			s.BlobReads++
			s.BlobBytesOut += cw.n
		case reqManifestWrite:
			s.ManifestWrites++
		}
		stop := r.stopAfter.Load() > 0 && s.Requests >= r.stopAfter.Load()
		r.mu.Unlock()
		if stop {
			// After this handler returns, so the n-th request gets its answer.
			go r.Stop()
		}
	})
}

func (r *Registry) authorized(req *http.Request) bool {
	user, pass, ok := req.BasicAuth()
	return ok &&
		subtle.ConstantTimeCompare([]byte(user), []byte(RegistryUser)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(RegistryPassword)) == 1
}

type requestKind int

const (
	reqOther requestKind = iota
	reqBlobUploadStart
	reqBlobUploadData
	reqBlobRead
	reqManifestWrite
)

// classify sorts a distribution-API request by what it moves.
func classify(req *http.Request) requestKind {
	p := strings.TrimSuffix(req.URL.Path, "/")
	switch {
	case strings.HasSuffix(p, "/blobs/uploads") && req.Method == http.MethodPost:
		return reqBlobUploadStart
	case strings.Contains(p, "/blobs/uploads/") && (req.Method == http.MethodPatch || req.Method == http.MethodPut):
		return reqBlobUploadData
	case strings.Contains(p, "/blobs/") && req.Method == http.MethodGet:
		return reqBlobRead
	case strings.Contains(p, "/manifests/") && req.Method == http.MethodPut:
		return reqManifestWrite
	}
	return reqOther
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// DockerConfig writes a Docker config.json holding the credentials of every
// given registry into a new temporary directory and returns the directory:
// point DOCKER_CONFIG at it (e2e.Cmd{Env: []string{"DOCKER_CONFIG=" + dir}},
// or t.Setenv in-process) so both stack (authn.DefaultKeychain) and the
// docker CLI (which sends the credentials to the daemon) log in.
func DockerConfig(t testing.TB, regs ...*Registry) string {
	t.Helper()
	type auth struct {
		Auth string `json:"auth"`
	}
	cfg := struct {
		Auths map[string]auth `json:"auths"`
	}{Auths: map[string]auth{}}
	token := base64.StdEncoding.EncodeToString([]byte(RegistryUser + ":" + RegistryPassword))
	for _, r := range regs {
		cfg.Auths[r.Host] = auth{Auth: token}
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mount answers a cross-repository mount request itself when the source
// repository has the blob (the in-memory registry does not implement
// mounts), and reports whether it did.
func (r *Registry) mount(w http.ResponseWriter, req *http.Request) bool {
	q := req.URL.Query()
	digest, from := q.Get("mount"), q.Get("from")
	p := strings.TrimSuffix(req.URL.Path, "/")
	if req.Method != http.MethodPost || digest == "" || from == "" || !strings.HasPrefix(p, "/v2/") || !strings.HasSuffix(p, "/blobs/uploads") {
		return false
	}
	repo := strings.TrimSuffix(strings.TrimPrefix(p, "/v2/"), "/blobs/uploads")
	if !r.blobs.mount(repo, from, digest) {
		return false
	}
	w.Header().Set("Location", "/v2/"+repo+"/blobs/"+digest)
	w.Header().Set("Docker-Content-Digest", digest)
	w.WriteHeader(http.StatusCreated)
	r.mu.Lock()
	r.stats.Requests++
	r.stats.Mounts++
	r.mu.Unlock()
	return true
}

// repoBlobs stores blobs once and records which repositories hold each.
type repoBlobs struct {
	store registry.BlobHandler // in memory: also a Stat and Put handler
	mu    sync.Mutex
	links map[string]map[string]bool // repository -> digest -> linked
}

// repoName undoes a quirk of the in-memory registry, which names the
// repository of an upload's last PUT "<repo>/blobs".
func repoName(repo string) string { return strings.TrimSuffix(repo, "/blobs") }

func (b *repoBlobs) linked(repo, digest string) bool {
	repo = repoName(repo)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.links[repo][digest]
}

func (b *repoBlobs) link(repo, digest string) {
	repo = repoName(repo)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.links[repo] == nil {
		b.links[repo] = map[string]bool{}
	}
	b.links[repo][digest] = true
}

func (b *repoBlobs) mount(repo, from, digest string) bool {
	if !b.linked(from, digest) {
		return false
	}
	b.link(repo, digest)
	return true
}

func (b *repoBlobs) Stat(ctx context.Context, repo string, h v1.Hash) (int64, error) {
	if !b.linked(repo, h.String()) {
		return 0, registry.ErrNotFound
	}
	return b.store.(registry.BlobStatHandler).Stat(ctx, repo, h)
}

func (b *repoBlobs) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	if !b.linked(repo, h.String()) {
		return nil, registry.ErrNotFound
	}
	return b.store.Get(ctx, repo, h)
}

func (b *repoBlobs) Put(ctx context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	if err := b.store.(registry.BlobPutHandler).Put(ctx, repo, h, rc); err != nil {
		return err
	}
	b.link(repo, h.String())
	return nil
}
