package image

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"

	"github.com/stack-deploy/stack/manifest"
)

// namedContext is one additional_contexts entry as the Dockerfile frontend
// takes it (context:NAME): a directory the session serves ("local:..."), or
// a reference it resolves itself (docker-image://, a git or https URL).
type namedContext struct {
	ref string
	// dir is the directory of a local entry, nil for a reference.
	dir *contextSpec
}

// localMount is the session name of the directory of additional context
// name: prefixed so that no name can take the place of the build context
// or the Dockerfile ("context", "dockerfile").
func localMount(name string) string { return "stack-context-" + name }

// prepareSessionInputs reads what the build's BuildKit session will serve
// (secrets, ssh agents or keys, additional contexts) so that a missing
// file, variable or agent is an error before anything is built. The
// secrets' values stay in memory only: they go to BuildKit when a RUN
// mounts them, and into no label, event or error.
func (j *buildJob) prepareSessionInputs(p *manifest.Project) error {
	bc := j.bc
	j.secrets = map[string][]byte{}
	for _, ss := range bc.Secrets {
		cfg, ok := p.Secrets[ss.Source]
		if !ok {
			return j.errAt("build.secrets", fmt.Sprintf("%q is not a secret of the project", ss.Source), "define it under the top-level secrets: with file: or environment:")
		}
		id := ss.Source
		if ss.Target != "" {
			id = ss.Target
		}
		var value []byte
		switch {
		case cfg.File != "":
			b, err := os.ReadFile(cfg.File)
			if err != nil {
				return j.errAt("build.secrets", fmt.Sprintf("secret %q: %v", ss.Source, err), "create the file or fix secrets."+ss.Source+".file")
			}
			value = b
		case cfg.Environment != "":
			v, ok := p.Environment[cfg.Environment]
			if !ok {
				return j.errAt("build.secrets", fmt.Sprintf("secret %q: environment variable %s is not set", ss.Source, cfg.Environment), "set it in the environment or in the project's .env file")
			}
			value = []byte(v)
		case cfg.Content != "":
			value = []byte(cfg.Content)
		default:
			return j.errAt("build.secrets", fmt.Sprintf("secret %q has no file, environment or content", ss.Source), "a build reads secrets from a file (file:) or a variable (environment:)")
		}
		if ss.UID != "" || ss.GID != "" || ss.Mode != nil {
			j.warnings = append(j.warnings, fmt.Sprintf("build.secrets: %s: uid, gid and mode are not applied to build secrets; set them in the RUN --mount=type=secret that uses it", ss.Source))
		}
		j.secrets[id] = value
		j.inputs.secrets = append(j.inputs.secrets, id)
	}
	for _, k := range bc.SSH {
		conf := sshprovider.AgentConfig{ID: k.ID}
		if k.Path != "" {
			conf.Paths = []string{k.Path}
		}
		// Read the keys (or find the agent) now: a wrong path is an error
		// before anything is built, not in the middle of a RUN.
		if _, err := sshprovider.NewSSHAgentProvider([]sshprovider.AgentConfig{conf}); err != nil {
			return j.errAt("build.ssh", fmt.Sprintf("%s: %v", k.ID, err), "start an ssh-agent (SSH_AUTH_SOCK), or name a key file: ssh: [\"default=~/.ssh/id_ed25519\"]")
		}
		j.ssh = append(j.ssh, conf)
		j.inputs.ssh = append(j.inputs.ssh, k.ID+"="+k.Path)
	}
	j.inputs.contexts = map[string]namedContext{}
	for n, v := range bc.AdditionalContexts {
		switch {
		case strings.HasPrefix(v, "service:"):
			svc := strings.TrimPrefix(v, "service:")
			if _, ok := p.Project.Services[svc]; !ok {
				return j.errAt("build.additional_contexts."+n, fmt.Sprintf("%q is not a service of the project", svc), "name a service whose image to use, or a directory")
			}
			ref := p.ImageName(svc)
			j.inputs.contexts[n] = namedContext{ref: "docker-image://" + ref}
			j.bases = append(j.bases, ref)
		case strings.Contains(v, "://") || strings.HasPrefix(v, "git@"):
			j.inputs.contexts[n] = namedContext{ref: v}
		default:
			dir, err := newDirSpec(v)
			if err != nil {
				return j.errAt("build.additional_contexts."+n, err.Error(), "name a directory, docker-image://IMAGE or service:NAME")
			}
			j.inputs.contexts[n] = namedContext{ref: "local:" + localMount(n), dir: dir}
		}
	}
	return nil
}

// registryAuth gives BuildKit the keychain's credentials when it pulls (a
// FROM image under build.pull, a cache_from image, a # syntax= frontend):
// the same Docker config as every pull and push of this package.
func registryAuth(kc authn.Keychain) authprovider.AuthConfigProvider {
	return func(ctx context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (types.AuthConfig, error) {
		if host == authprovider.DockerHubRegistryHost {
			host = name.DefaultRegistry
		}
		reg, err := name.NewRegistry(host, name.WeakValidation)
		if err != nil {
			return types.AuthConfig{}, fmt.Errorf("registry %s: %w", host, err)
		}
		a, err := authn.Resolve(ctx, kc, reg)
		if err != nil {
			return types.AuthConfig{}, fmt.Errorf("reading credentials for %s from the Docker config: %w", host, err)
		}
		cfg, err := authn.Authorization(ctx, a)
		if err != nil {
			return types.AuthConfig{}, fmt.Errorf("reading credentials for %s from the Docker config: %w", host, err)
		}
		return types.AuthConfig{
			Username: cfg.Username, Password: cfg.Password, Auth: cfg.Auth,
			IdentityToken: cfg.IdentityToken, RegistryToken: cfg.RegistryToken, ServerAddress: host,
		}, nil
	}
}
