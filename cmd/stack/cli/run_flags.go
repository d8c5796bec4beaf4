package cli

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
)

// runFlags are the flags of `stack run` that docker compose run has beside
// stack's first ones, as given on the command line; parse checks them and
// turns them into the one-off's options.
type runFlags struct {
	publish, volumes, labels []string
	capAdd, capDrop          []string
	pull                     string
	noTTY, quietPull         bool
}

func (r *runFlags) add(cmd *cobra.Command, o *runOptions) {
	f := cmd.Flags()
	f.BoolVarP(&o.Detach, "detach", "d", false, "start the one-off in the background and print its container's ID, as Compose does (stack logs ID or NAME, stack ps -a show it; down removes it)")
	f.StringVar(&o.Name, "name", "", "name the one-off's container (default: <project>-<service>-run-<id>)")
	f.StringVarP(&o.User, "user", "u", "", "run as this user name or uid[:gid]")
	f.StringVarP(&o.WorkingDir, "workdir", "w", "", "working directory inside the container")
	f.StringArrayVarP(&r.labels, "label", "l", nil, "add or override a label (KEY=VALUE)")
	f.StringArrayVarP(&r.publish, "publish", "p", nil, "publish a port as docker run -p does ([HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]); not with --service-ports")
	f.StringArrayVarP(&r.volumes, "volume", "v", nil, "mount a bind (HOST_PATH:PATH[:ro], a relative HOST_PATH from here) or a named volume (NAME:PATH[:ro]), or an anonymous one (PATH)")
	f.BoolVar(&o.UseAliases, "use-aliases", false, "give the one-off the service's network aliases (by default it answers to its own name only)")
	f.StringArrayVar(&r.capAdd, "cap-add", nil, "add a Linux capability")
	f.StringArrayVar(&r.capDrop, "cap-drop", nil, "drop a Linux capability")
	f.BoolVar(&o.Build, "build", false, "build the images first, even when their inputs did not change (as up --build)")
	f.StringVar(&r.pull, "pull", "policy", "pull images: always, missing, never, or policy (each service's pull_policy)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print no progress, only the one-off's output")
	f.BoolVar(&r.quietPull, "quiet-pull", false, "accepted for Compose's sake: pulls print one line per image")
	f.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "remove containers of services no longer in the manifest")
	// stack never gives a one-off a terminal: -T is what it always does.
	f.BoolVarP(&r.noTTY, "no-TTY", "T", true, "accepted for Compose's sake: stack never allocates a terminal for run (output and stdin are streams, exit codes kept)")
	f.BoolVarP(&o.ServicePorts, "service-ports", "P", false, "publish the service's ports")
}

// parse checks the flags' values, each error naming its flag, and sets
// the one-off's options from them.
func (r *runFlags) parse(o *runOptions) error {
	if len(r.publish) > 0 && o.ServicePorts {
		return errors.New("--service-ports and -p/--publish cannot be used together: --service-ports publishes the service's ports, -p the ones given")
	}
	for _, p := range r.publish {
		ports, err := types.ParsePortConfig(p)
		if err != nil {
			return fmt.Errorf("-p/--publish %q: %w; use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], as docker run -p", p, err)
		}
		o.Publish = append(o.Publish, ports...)
	}
	for _, v := range r.volumes {
		vol, err := runVolume(v)
		if err != nil {
			return fmt.Errorf("-v/--volume %q: %w; use HOST_PATH:PATH[:ro] or NAME:PATH[:ro]", v, err)
		}
		o.Volumes = append(o.Volumes, vol)
	}
	for _, l := range r.labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("-l/--label %q: a label is KEY=VALUE", l)
		}
		if o.Labels == nil {
			o.Labels = map[string]string{}
		}
		o.Labels[k] = v
	}
	switch r.pull {
	case "policy":
	case types.PullPolicyAlways, types.PullPolicyMissing, types.PullPolicyNever:
		o.Pull = r.pull
	default:
		return fmt.Errorf("--pull %q: use always, missing, never or policy", r.pull)
	}
	o.CapAdd, o.CapDrop = r.capAdd, r.capDrop
	return nil
}

// runVolume parses a -v value as compose run does; a relative bind source
// is taken from the current directory, as docker run takes it.
func runVolume(v string) (types.ServiceVolumeConfig, error) {
	vol, err := format.ParseVolume(v)
	if err != nil {
		return vol, err
	}
	if !path.IsAbs(vol.Target) {
		return vol, fmt.Errorf("the path in the container, %q, is not absolute", vol.Target)
	}
	if home, err := os.UserHomeDir(); err == nil && vol.Type == types.VolumeTypeBind && (vol.Source == "~" || strings.HasPrefix(vol.Source, "~/")) {
		vol.Source = home + vol.Source[1:]
	}
	if vol.Type == types.VolumeTypeBind && !filepath.IsAbs(vol.Source) {
		if vol.Source, err = filepath.Abs(vol.Source); err != nil {
			return vol, fmt.Errorf("resolving %q: %w", vol.Source, err)
		}
	}
	return vol, nil
}
