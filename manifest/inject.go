package manifest

// Inject configures address injection (see package envinject).
type Inject struct {
	// Mode is "dependencies" (default), "all" or "none".
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
	// Prefix renames a dependency's variable prefix: service name -> prefix
	// (redis: CACHE gives CACHE_HOST, CACHE_PORT).
	Prefix map[string]string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
}
