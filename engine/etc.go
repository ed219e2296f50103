package engine

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// The files docker puts over the image's /etc: written by the init into
// the scratch tmpfs over the container's directory (see scratch.go) and
// bind-mounted from there, so that the container can change them without
// touching its image or the host.
//
// Unlike docker, /etc/hosts is left to the image: the container has only
// its loopback, which the image's hosts file already names, and a write to
// /etc/hosts is the classic first demonstration of a copy-up, which a bind
// mount over it would hide.
const (
	hostnameFile   = "hostname"
	resolvConfFile = "resolv.conf"
)

// etcMountPoints are where those files go in the container.
var etcMountPoints = []string{"/etc/" + hostnameFile, "/etc/" + resolvConfFile}

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

// etcContents are the files over the image's /etc, by name, for hostname
// and the host's resolv.conf at hostResolv (missing counts as empty).
func etcContents(hostname, hostResolv string) (map[string]string, error) {
	host, err := os.ReadFile(hostResolv)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read %s: %w", hostResolv, err)
	}
	return map[string]string{hostnameFile: hostname + "\n", resolvConfFile: string(resolvConf(host))}, nil
}

// etcMounts bind-mount the files of etcContents, from dir's scratch, over
// the image's, except where a volume of the container's own goes (as
// docker lets -v replace them).
func etcMounts(dir string, vols []Volume, contents map[string]string) []Mount {
	var ms []Mount
	for _, target := range etcMountPoints {
		name := filepath.Base(target)
		if slices.ContainsFunc(vols, func(v Volume) bool { return filepath.Clean(v.Target) == target }) {
			continue
		}
		ms = append(ms, Mount{Source: filepath.Join(dir, name), Target: target, Flags: unix.MS_BIND, File: true, Content: contents[name]})
	}
	return ms
}
