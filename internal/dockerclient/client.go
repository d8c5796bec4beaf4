package dockerclient

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"
)

// Endpoint returns the engine address to use, as the docker CLI picks it:
// DOCKER_HOST when set; else the endpoint of the docker context named by
// DOCKER_CONTEXT or by currentContext in the docker CLI's config.json;
// else "" for the client's default (the local socket). Contexts are read for
// their host only: a context's TLS material is not used.
func Endpoint() (string, error) {
	if h := os.Getenv(client.EnvOverrideHost); h != "" {
		return h, nil
	}
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", nil
		}
		dir = filepath.Join(home, ".docker")
	}
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err == nil {
			err = json.Unmarshal(b, &cfg)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("reading the docker CLI config in %s: %w", dir, err)
		}
		name = cfg.CurrentContext
	}
	if name == "" || name == "default" {
		return "", nil
	}
	sum := sha256.Sum256([]byte(name))
	meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	var m struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	b, err := os.ReadFile(meta)
	if err != nil {
		return "", fmt.Errorf("docker context %q: %w; list them with `docker context ls`", name, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("docker context %q: reading %s: %w", name, meta, err)
	}
	return m.Endpoints["docker"].Host, nil
}

// New connects to the engine Endpoint names, with the environment's
// TLS settings (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) and API version
// (DOCKER_API_VERSION, else negotiated).
func New() (*client.Client, error) { return NewForHost("") }

// NewForHost connects to host: unix://, tcp:// or ssh://[user@]host
// (through the ssh command, running `docker system dial-stdio` remotely, as
// the docker CLI does); empty: the one Endpoint names. Its calls are bounded
// by CallTimeout (see withCallBound).
func NewForHost(host string) (*client.Client, error) {
	if host == "" {
		var err error
		if host, err = Endpoint(); err != nil {
			return nil, err
		}
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		helper, err := connhelper.GetConnectionHelper(host)
		if err != nil {
			return nil, fmt.Errorf("engine address %q: %w", host, err)
		}
		if helper != nil {
			opts = append(opts, client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
		} else {
			opts = append(opts, client.WithHost(host))
		}
	}
	return client.NewClientWithOpts(append(opts, withCallBound(host))...)
}
