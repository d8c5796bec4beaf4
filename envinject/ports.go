package envinject

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// port is one container port.
type port struct {
	num   int
	proto string // tcp, udp or sctp
}

// address is what the stack knows about reaching one service.
type address struct {
	host  string
	ports []port // primary first; empty: none known
	// source says where the ports came from, or why there are none.
	source string
	// unknown is set when the ports can only come from an image the
	// target does not have yet: known once it is built or pulled.
	unknown bool
}

// resolveAddress finds svc's host and ports: expose, else ports targets, else
// the image's EXPOSE as facts report it.
func resolveAddress(p *manifest.Project, svc types.ServiceConfig, f Facts) (address, error) {
	a := address{host: f.Host(svc.Name)}
	switch {
	case len(svc.Expose) > 0:
		for _, e := range svc.Expose {
			ps, err := parsePorts(e)
			if err != nil {
				me := p.ErrorAt(svc.Name, "expose")
				me.Problem = err.Error()
				me.Fix = "write a port (1-65535) or a range (8000-8010), optionally followed by /tcp, /udp or /sctp"
				me.Err = err
				return address{}, me
			}
			a.ports = append(a.ports, ps...)
		}
		a.source = "first expose entry of " + svc.Name
	case len(svc.Ports) > 0:
		for _, p := range svc.Ports {
			a.ports = append(a.ports, port{int(p.Target), protoOrTCP(p.Protocol)})
		}
		a.source = "target of the first ports entry of " + svc.Name
	default:
		image := f.ImagePorts(svc.Name)
		if image == nil {
			a.source = fmt.Sprintf("%s declares no expose or ports, and the ports of its image are unknown (not built or pulled yet?)", svc.Name)
			a.unknown = true
			break
		}
		for _, e := range image {
			ps, err := parsePorts(e)
			if err != nil {
				return address{}, fmt.Errorf("image EXPOSE %q: %w", e, err)
			}
			a.ports = append(a.ports, ps...)
		}
		slices.SortStableFunc(a.ports, func(x, y port) int {
			return cmp.Or(cmp.Compare(x.num, y.num), cmp.Compare(protoRank(x.proto), protoRank(y.proto)))
		})
		a.ports = unique(a.ports)
		switch len(a.ports) {
		case 0:
			a.source = fmt.Sprintf("%s declares no expose or ports, and its image declares no EXPOSE: add `expose: [\"<port>\"]` to %s", svc.Name, svc.Name)
		case 1:
			a.source = "EXPOSE of the image of " + svc.Name
		default:
			a.source = "lowest EXPOSE port of the image of " + svc.Name
		}
	}
	a.ports = unique(a.ports)
	return a, nil
}

// parsePorts reads "6379", "6379/tcp" or a range "8000-8002/udp".
func parsePorts(s string) ([]port, error) {
	spec, proto, _ := strings.Cut(strings.TrimSpace(s), "/")
	proto = protoOrTCP(strings.ToLower(proto))
	if protoRank(proto) < 0 {
		return nil, fmt.Errorf("%w: protocol %q: use tcp, udp or sctp", ErrPort, proto)
	}
	lo, hi, isRange := strings.Cut(spec, "-")
	first, err := portNumber(lo)
	if err != nil {
		return nil, err
	}
	last := first
	if isRange {
		if last, err = portNumber(hi); err != nil {
			return nil, err
		}
		if last < first {
			return nil, fmt.Errorf("%w: range %s ends before it starts", ErrPort, spec)
		}
	}
	ps := make([]port, 0, last-first+1)
	for n := first; n <= last; n++ {
		ps = append(ps, port{n, proto})
	}
	return ps, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%w: %q is not a port number (1-65535)", ErrPort, s)
	}
	return n, nil
}

func protoOrTCP(p string) string {
	if p == "" {
		return "tcp"
	}
	return p
}

func protoRank(p string) int { return slices.Index([]string{"tcp", "udp", "sctp"}, p) }

// unique drops repeated ports, keeping each first occurrence in place.
func unique(ps []port) []port {
	seen := make(map[port]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
