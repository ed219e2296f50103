package dockerfile

import (
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// expose adds EXPOSE's ports to the config as "80/tcp". A word may expand
// to several ports (EXPOSE $PORTS), which no other instruction allows; a
// range adds each port; an ip:host: prefix is accepted and only the
// container port exposed, as docker does.
func (s *State) expose(c *instructions.ExposeCommand, env shell.EnvGetter, step *Step) error {
	var words []string
	for _, p := range c.Ports {
		ws, err := s.lex.ProcessWords(p, env)
		if err != nil {
			return err
		}
		words = append(words, ws...)
	}
	if s.Config.ExposedPorts == nil {
		s.Config.ExposedPorts = map[string]struct{}{}
	}
	for _, w := range words {
		ports, err := portSpec(w)
		if err != nil {
			return err
		}
		for _, p := range ports {
			s.Config.ExposedPorts[p] = struct{}{}
		}
	}
	step.CreatedBy = s.nop("EXPOSE " + strings.Join(words, " "))
	return nil
}

// portSpec parses [[ip:]hostPort:]port[-end][/proto] into "port/proto"
// keys.
func portSpec(raw string) ([]string, error) {
	parts := strings.Split(raw, ":")
	container := parts[len(parts)-1]
	var ip, host string
	if len(parts) > 1 {
		host = parts[len(parts)-2]
	}
	if len(parts) > 2 {
		ip = strings.Trim(strings.Join(parts[:len(parts)-2], ":"), "[]")
	}
	port, proto, _ := strings.Cut(container, "/")
	if port == "" {
		return nil, fmt.Errorf("no port specified: %s<empty>", human.Visible(raw))
	}
	proto = strings.ToLower(proto)
	switch proto {
	case "":
		proto = "tcp"
	case "tcp", "udp", "sctp":
	default:
		return nil, fmt.Errorf("invalid proto: %s", human.Visible(proto))
	}
	if ip != "" {
		if _, err := netip.ParseAddr(ip); err != nil {
			return nil, fmt.Errorf("invalid IP address: %s", human.Visible(ip))
		}
	}
	start, end, ok := portRange(port)
	if !ok {
		return nil, fmt.Errorf("invalid containerPort: %s", human.Visible(port))
	}
	if host != "" {
		hs, he, ok := portRange(host)
		if !ok {
			return nil, fmt.Errorf("invalid hostPort: %s", human.Visible(host))
		}
		if he-hs != end-start && end != start {
			return nil, fmt.Errorf("invalid ranges specified for container and host Ports: %s and %s", human.Visible(port), human.Visible(host))
		}
	}
	out := make([]string, 0, end-start+1)
	for p := start; p <= end; p++ {
		out = append(out, strconv.Itoa(p)+"/"+proto)
	}
	return out, nil
}

// portRange parses "80" or "8000-8010".
func portRange(s string) (int, int, bool) {
	a, b, isRange := strings.Cut(s, "-")
	start, err := strconv.ParseUint(a, 10, 16)
	if err != nil {
		return 0, 0, false
	}
	end := start
	if isRange {
		if end, err = strconv.ParseUint(b, 10, 16); err != nil || end < start {
			return 0, 0, false
		}
	}
	return int(start), int(end), true
}

// checkSignal accepts what docker's STOPSIGNAL accepts: a signal number or
// a name with or without "SIG", in any case.
func checkSignal(sig string) error {
	if n, err := strconv.Atoi(sig); err == nil {
		if n < 1 || n > 64 {
			return fmt.Errorf("invalid signal: %s", human.Visible(sig))
		}
		return nil
	}
	name := strings.TrimPrefix(strings.ToUpper(sig), "SIG")
	if name == "" || unix.SignalNum("SIG"+name) == 0 {
		return fmt.Errorf("invalid signal: %s", human.Visible(sig))
	}
	return nil
}

// archAliases are the other names of the architectures Go knows.
var archAliases = map[string]string{"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "i386": "386"}

// checkPlatform accepts FROM --platform only for the host's own platform:
// minidocker runs RUN natively and pulls nothing.
func checkPlatform(p string) error {
	parts := strings.Split(strings.ToLower(p), "/")
	if len(parts) >= 2 && len(parts) <= 3 {
		arch := parts[1]
		if a, ok := archAliases[arch]; ok {
			arch = a
		}
		variantOK := len(parts) == 2 || (arch == "arm64" && parts[2] == "v8") || (arch == "amd64" && parts[2] == "v1")
		if parts[0] == "linux" && arch == runtime.GOARCH && variantOK {
			return nil
		}
	}
	return fmt.Errorf("FROM --platform=%s is %w (this host builds linux/%s)", human.Visible(p), ErrUnsupported, runtime.GOARCH)
}
