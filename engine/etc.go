package engine

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"minidocker/internal/human"

	"golang.org/x/sys/unix"
)

// The files docker puts over the image's /etc: written by the init into
// the scratch tmpfs over the container's directory (see scratch.go) and
// bind-mounted from there, so that the container can change them without
// touching its image or the host.
//
// Unlike docker, /etc/hosts is the image's when it has one and no
// --add-host asks for more: the container has only its loopback, which the
// image's hosts file already names, and a write to /etc/hosts is the
// classic first demonstration of a copy-up, which a bind mount over it
// would hide. An image without one gets docker's, as does a container
// given extra hosts.
const (
	hostnameFile   = "hostname"
	resolvConfFile = "resolv.conf"
	hostsFile      = "hosts"
)

// etcMountPoints are where those files go in the container.
var etcMountPoints = []string{"/etc/" + hostnameFile, "/etc/" + resolvConfFile, "/etc/" + hostsFile}

// ParseHost reads an --add-host value as docker does, HOST:IP or HOST=IP
// (an IPv6 address may be in brackets), into the line of /etc/hosts it
// makes: "IP\tHOST".
func ParseHost(s string) (string, error) {
	i := strings.IndexAny(s, ":=")
	if i <= 0 {
		return "", fmt.Errorf("%w: extra host %q: want HOST:IP", ErrInvalid, human.Visible(s))
	}
	host, ip := s[:i], strings.TrimSuffix(strings.TrimPrefix(s[i+1:], "["), "]")
	addr, err := netip.ParseAddr(ip)
	if err == nil && addr.Zone() != "" {
		err = errors.New("zone") // a scope, such as %eth0, has no meaning in hosts(5)
	}
	if err != nil {
		return "", fmt.Errorf("%w: extra host %q: invalid IP address %q", ErrInvalid, human.Visible(s), human.Visible(ip))
	}
	if strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == '#' || r > '~' }) {
		return "", fmt.Errorf("%w: extra host %q: invalid host name", ErrInvalid, human.Visible(s))
	}
	return addr.String() + "\t" + host, nil
}

// hosts is docker's /etc/hosts for a container with only its loopback:
// localhost, the IPv6 names, the container's host name on 127.0.1.1 (as
// Debian names its own), then the extra hosts' lines.
func hosts(hostname string, extra []string) string {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	if hostname != "" {
		b.WriteString("127.0.1.1\t" + hostname + "\n")
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// defaultNameservers are what docker falls back to when the host has no
// nameserver a container can reach.
var defaultNameservers = []string{"8.8.8.8", "8.8.4.4"}

// resolvConf is the host's resolv.conf for a container: the nameservers
// on a loopback address are dropped (the container has only its own
// loopback, where nothing listens), docker's defaults stand in when none
// is left, and every other line is kept.
func resolvConf(host []byte) []byte {
	var out bytes.Buffer
	servers := 0
	for line := range strings.SplitSeq(string(host), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			addr, err := netip.ParseAddr(strings.SplitN(f[1], "%", 2)[0])
			if err == nil && addr.IsLoopback() {
				continue
			}
			servers++
		}
		if line != "" || out.Len() > 0 {
			out.WriteString(line + "\n")
		}
	}
	b := bytes.TrimRight(out.Bytes(), "\n")
	if len(b) > 0 {
		b = append(b, '\n')
	}
	if servers == 0 {
		for _, s := range defaultNameservers {
			b = append(b, "nameserver "+s+"\n"...)
		}
	}
	return b
}

// etcContents are the files over the image's /etc, by name, for hostname,
// the host's resolv.conf at hostResolv (missing counts as empty) and the
// extra hosts (HOST:IP, as ParseHost reads them).
func etcContents(hostname, hostResolv string, extraHosts []string) (map[string]string, error) {
	host, err := os.ReadFile(hostResolv)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read %s: %w", hostResolv, err)
	}
	extra := make([]string, len(extraHosts))
	for i, h := range extraHosts {
		if extra[i], err = ParseHost(h); err != nil {
			return nil, err
		}
	}
	return map[string]string{hostnameFile: hostname + "\n", resolvConfFile: string(resolvConf(host)),
		hostsFile: hosts(hostname, extra)}, nil
}

// etcMounts bind-mount the files of etcContents, from dir's scratch, over
// the image's, except where a volume of the container's own goes (as
// docker lets -v replace them). The hosts file goes only where the image
// has none, unless ownHosts (extra hosts were asked for).
func etcMounts(dir string, vols []Volume, contents map[string]string, ownHosts bool) []Mount {
	var ms []Mount
	for _, target := range etcMountPoints {
		name := filepath.Base(target)
		if slices.ContainsFunc(vols, func(v Volume) bool { return filepath.Clean(v.Target) == target }) {
			continue
		}
		m := Mount{Source: filepath.Join(dir, name), Target: target, Flags: unix.MS_BIND, File: true, Content: contents[name]}
		m.IfMissing = name == hostsFile && !ownHosts
		ms = append(ms, m)
	}
	return ms
}
