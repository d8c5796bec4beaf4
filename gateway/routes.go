package gateway

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Routes reads back from a config that Config rendered the routes of each
// service, "api.example.com/api", as ps shows them: for a driver that
// keeps the config (a Kubernetes ConfigMap) and nothing beside it.
func Routes(config []byte) (map[string][]string, error) {
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]json.RawMessage `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("reading the gateway's config: %w", err)
	}
	out := map[string][]string{}
	for name := range cfg.Apps.HTTP.Servers {
		server, ok := strings.CutPrefix(name, serverPrefix)
		if !ok {
			continue
		}
		server, _, _ = strings.Cut(server, "#") // a second route of one name
		service, route, _ := strings.Cut(server, ":")
		out[service] = append(out[service], route)
	}
	for _, routes := range out {
		sort.Strings(routes)
	}
	return out, nil
}
