package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The harness registry must accept a push from the Docker daemon over plain
// HTTP with basic auth taken from the written Docker config, and count it.
func TestRegistryDaemonPushWithAuth(t *testing.T) {
	Engine(t)
	reg := StartRegistry(t)
	cfg := DockerConfig(t, reg)
	tag := reg.Ref("harness/busybox:t1")
	docker := func(args ...string) {
		t.Helper()
		out, err := exec.Command("docker", append([]string{"--config", cfg}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	docker("tag", "busybox:stable", tag)
	t.Cleanup(func() { _, _ = exec.Command("docker", "rmi", tag).CombinedOutput() })
	docker("push", tag)

	s := reg.Stats()
	if s.Unauthorized == 0 || s.BlobUploads == 0 || s.BlobBytesIn == 0 || s.ManifestWrites != 1 {
		t.Fatalf("push through the daemon: stats %+v, want a 401 challenge, blob uploads with bytes and one manifest", s)
	}

	ref, err := name.ParseReference(tag)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref, remote.WithAuth(&authn.Basic{Username: RegistryUser, Password: RegistryPassword})); err != nil {
		t.Fatalf("reading back %s with the credentials: %v", tag, err)
	}
	_, err = remote.Head(ref, remote.WithAuth(&authn.Basic{Username: RegistryUser, Password: "wrong"}))
	if err == nil {
		t.Fatalf("reading %s with a wrong password succeeded", tag)
	}
	if !strings.Contains(err.Error(), "401") && !strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
		t.Fatalf("wrong password: got %v, want 401 Unauthorized", err)
	}
}

// StopAfter must take the registry down in the middle of a client's work,
// and a second write of the same image must move no blob bytes.
func TestRegistryStopAfterAndCounters(t *testing.T) {
	reg := StartRegistry(t)
	auth := remote.WithAuth(&authn.Basic{Username: RegistryUser, Password: RegistryPassword})
	img, err := random.Image(1024, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Ref("harness/random:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, auth); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if s := reg.Stats(); s.BlobUploads != 4 || s.BlobBytesIn < 3*1024 {
		t.Fatalf("first write: stats %+v, want 4 blob uploads (3 layers + config) of at least 3 KiB", s)
	}
	reg.Reset()
	if err := remote.Write(ref, img, auth); err != nil {
		t.Fatalf("second write: %v", err)
	}
	if s := reg.Stats(); s.BlobUploads != 0 || s.BlobBytesIn != 0 {
		t.Fatalf("second write of the same image: stats %+v, want no blob uploaded", s)
	}

	reg.StopAfter(1)
	other, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref2, err := name.ParseReference(reg.Ref("harness/random:2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref2, other, auth); err == nil {
		t.Fatal("write to a registry stopped half way succeeded")
	}
	if _, err := http.Get("http://" + reg.Host + "/v2/"); err == nil {
		t.Fatal("the registry still answers after StopAfter ran out")
	}
}

// Blobs belong to repositories: unknown in another until mounted there.
func TestRegistryMount(t *testing.T) {
	reg := StartRegistry(t)
	auth := remote.WithAuth(&authn.Basic{Username: RegistryUser, Password: RegistryPassword})
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Ref("harness/a:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, auth); err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	status := func(method, path string) int {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+reg.Host+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(RegistryUser, RegistryPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(http.MethodHead, "/v2/harness/b/blobs/"+d.String()); got != http.StatusNotFound {
		t.Fatalf("HEAD of a's blob in repository b: %d, want 404", got)
	}
	reg.Reset()
	if got := status(http.MethodPost, "/v2/harness/b/blobs/uploads/?mount="+d.String()+"&from=harness/a"); got != http.StatusCreated {
		t.Fatalf("mounting a's blob into b: %d, want 201", got)
	}
	if got := status(http.MethodHead, "/v2/harness/b/blobs/"+d.String()); got != http.StatusOK {
		t.Fatalf("HEAD of the mounted blob in b: %d, want 200", got)
	}
	if got := status(http.MethodPost, "/v2/harness/c/blobs/uploads/?mount="+d.String()+"&from=harness/nothing"); got != http.StatusAccepted {
		t.Fatalf("mounting from a repository without the blob: %d, want 202 (an upload starts)", got)
	}
	if s := reg.Stats(); s.Mounts != 1 || s.BlobUploads != 1 || s.BlobBytesIn != 0 {
		t.Fatalf("stats %+v, want 1 mount and 1 upload session, no bytes", s)
	}
}
