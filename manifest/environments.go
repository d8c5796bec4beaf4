package manifest

// Environment is one named deploy target in x-stack.environments.
type Environment struct {
	// Registry is the image registry/repository prefix, e.g. 127.0.0.1:5000/shop.
	Registry string `yaml:"registry,omitempty" json:"registry,omitempty"`
	// Files are extra compose override files, merged after the base files.
	Files []string `yaml:"files,omitempty" json:"files,omitempty"`
	// EnvFile is an env file for interpolation in this environment.
	EnvFile string `yaml:"env_file,omitempty" json:"env_file,omitempty"`
	// Host is the engine endpoint (as DOCKER_HOST); empty: DOCKER_HOST or the
	// current docker context.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`
}
