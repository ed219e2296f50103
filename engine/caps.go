package engine

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// capNames are the capabilities by number, as capabilities(7) names them.
var capNames = []string{
	unix.CAP_CHOWN: "CAP_CHOWN", unix.CAP_DAC_OVERRIDE: "CAP_DAC_OVERRIDE",
	unix.CAP_DAC_READ_SEARCH: "CAP_DAC_READ_SEARCH", unix.CAP_FOWNER: "CAP_FOWNER",
	unix.CAP_FSETID: "CAP_FSETID", unix.CAP_KILL: "CAP_KILL", unix.CAP_SETGID: "CAP_SETGID",
	unix.CAP_SETUID: "CAP_SETUID", unix.CAP_SETPCAP: "CAP_SETPCAP",
	unix.CAP_LINUX_IMMUTABLE: "CAP_LINUX_IMMUTABLE", unix.CAP_NET_BIND_SERVICE: "CAP_NET_BIND_SERVICE",
	unix.CAP_NET_BROADCAST: "CAP_NET_BROADCAST", unix.CAP_NET_ADMIN: "CAP_NET_ADMIN",
	unix.CAP_NET_RAW: "CAP_NET_RAW", unix.CAP_IPC_LOCK: "CAP_IPC_LOCK", unix.CAP_IPC_OWNER: "CAP_IPC_OWNER",
	unix.CAP_SYS_MODULE: "CAP_SYS_MODULE", unix.CAP_SYS_RAWIO: "CAP_SYS_RAWIO",
	unix.CAP_SYS_CHROOT: "CAP_SYS_CHROOT", unix.CAP_SYS_PTRACE: "CAP_SYS_PTRACE",
	unix.CAP_SYS_PACCT: "CAP_SYS_PACCT", unix.CAP_SYS_ADMIN: "CAP_SYS_ADMIN", unix.CAP_SYS_BOOT: "CAP_SYS_BOOT",
	unix.CAP_SYS_NICE: "CAP_SYS_NICE", unix.CAP_SYS_RESOURCE: "CAP_SYS_RESOURCE",
	unix.CAP_SYS_TIME: "CAP_SYS_TIME", unix.CAP_SYS_TTY_CONFIG: "CAP_SYS_TTY_CONFIG",
	unix.CAP_MKNOD: "CAP_MKNOD", unix.CAP_LEASE: "CAP_LEASE", unix.CAP_AUDIT_WRITE: "CAP_AUDIT_WRITE",
	unix.CAP_AUDIT_CONTROL: "CAP_AUDIT_CONTROL", unix.CAP_SETFCAP: "CAP_SETFCAP",
	unix.CAP_MAC_OVERRIDE: "CAP_MAC_OVERRIDE", unix.CAP_MAC_ADMIN: "CAP_MAC_ADMIN",
	unix.CAP_SYSLOG: "CAP_SYSLOG", unix.CAP_WAKE_ALARM: "CAP_WAKE_ALARM",
	unix.CAP_BLOCK_SUSPEND: "CAP_BLOCK_SUSPEND", unix.CAP_AUDIT_READ: "CAP_AUDIT_READ",
	unix.CAP_PERFMON: "CAP_PERFMON", unix.CAP_BPF: "CAP_BPF",
	unix.CAP_CHECKPOINT_RESTORE: "CAP_CHECKPOINT_RESTORE",
}

// defaultCaps is docker's default capability set.
var defaultCaps = []uintptr{
	unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FSETID, unix.CAP_FOWNER, unix.CAP_MKNOD,
	unix.CAP_NET_RAW, unix.CAP_SETGID, unix.CAP_SETUID, unix.CAP_SETFCAP, unix.CAP_SETPCAP,
	unix.CAP_NET_BIND_SERVICE, unix.CAP_SYS_CHROOT, unix.CAP_KILL, unix.CAP_AUDIT_WRITE,
}

// capSet is a set of capabilities, bit n for capability n.
type capSet uint64

func (s capSet) has(c uintptr) bool { return c < 64 && s&(1<<c) != 0 }

// words are the two 32-bit halves capset(2) takes.
func (s capSet) words() [2]uint32 { return [2]uint32{uint32(s), uint32(s >> 32)} }

// names are the set's capabilities by name, in number order.
func (s capSet) names() []string {
	out := []string{}
	for c := range uintptr(len(capNames)) {
		if s.has(c) {
			out = append(out, capNames[c])
		}
	}
	return out
}

func capsOf(caps []uintptr) capSet {
	var s capSet
	for _, c := range caps {
		s |= 1 << c
	}
	return s
}

// allCaps is every capability up to last.
func allCaps(last uintptr) capSet {
	if last >= 63 {
		return ^capSet(0)
	}
	return 1<<(last+1) - 1
}

// capByName is the number of a capability named as docker accepts it:
// CAP_X or X, in any case.
func capByName(name string) (uintptr, bool) {
	n := strings.ToUpper(name)
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	i := slices.Index(capNames, n)
	return uintptr(i), i >= 0
}

// capsFromNames is the set of names, which are known capabilities.
func capsFromNames(names []string) capSet {
	var s capSet
	for _, n := range names {
		if c, ok := capByName(n); ok {
			s |= 1 << c
		}
	}
	return s
}

// CheckCapability checks a --cap-add or --cap-drop value: a capability's
// name (CAP_X or X, any case) or ALL.
func CheckCapability(name string) error {
	if _, ok := capByName(name); ok || strings.EqualFold(name, "ALL") {
		return nil
	}
	return fmt.Errorf("%w: unknown capability \"%s\"", ErrInvalid, human.Visible(name))
}

// effectiveCaps is the capability set of a container, as docker works it
// out (moby's TweakCapabilities): every one up to last when privileged;
// else every one but the dropped when ALL is added; only the added when
// ALL is dropped; else docker's defaults less the dropped plus the added.
func effectiveCaps(privileged bool, add, drop []string, last uintptr) capSet {
	all := allCaps(last)
	isAll := func(n string) bool { return strings.EqualFold(n, "ALL") }
	var s capSet
	switch {
	case privileged:
		return all
	case slices.ContainsFunc(add, isAll):
		s = all &^ capsFromNames(drop)
	case slices.ContainsFunc(drop, isAll):
		s = capsFromNames(add)
	default:
		s = capsOf(defaultCaps)&^capsFromNames(drop) | capsFromNames(add)
	}
	return s & all
}

// lastCap is the highest capability the kernel knows.
func lastCap() uintptr {
	var n uintptr
	if _, err := fmt.Sscan(readFirstLine("/proc/sys/kernel/cap_last_cap"), &n); err != nil {
		return unix.CAP_LAST_CAP
	}
	return n
}

// permittedCaps is the calling thread's permitted set: what a container
// can be given at most (a host that is itself confined has fewer than all).
func permittedCaps() capSet {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return ^capSet(0)
	}
	return capSet(data[0].Permitted) | capSet(data[1].Permitted)<<32
}

// limitBounding drops from the calling thread's bounding set every
// capability not in keep, up to last; it needs CAP_SETPCAP, so it comes
// before setCapabilities (capabilities(7)).
func limitBounding(keep capSet, last uintptr) error {
	for c := uintptr(0); c <= last; c++ {
		if keep.has(c) {
			continue
		}
		if err := prctl(unix.PR_CAPBSET_DROP, c, "PR_CAPBSET_DROP"); err != nil {
			return err
		}
	}
	return nil
}

// setCapabilities makes keep the calling thread's effective and permitted
// sets with capset(2), and empties the inheritable one (as docker does
// since CVE-2022-24769); the ambient set of a thread is cleared by the
// smaller permitted set. It acts on this thread only, so the caller must
// hold it locked until execve.
func setCapabilities(keep capSet) error {
	w := keep.words()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: w[0], Permitted: w[0]},
		{Effective: w[1], Permitted: w[1]},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset %#x%08x: %w", w[1], w[0], err)
	}
	return nil
}
