package engine

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// defaultCaps is docker's default capability set.
var defaultCaps = []uintptr{
	unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FSETID, unix.CAP_FOWNER, unix.CAP_MKNOD,
	unix.CAP_NET_RAW, unix.CAP_SETGID, unix.CAP_SETUID, unix.CAP_SETFCAP, unix.CAP_SETPCAP,
	unix.CAP_NET_BIND_SERVICE, unix.CAP_SYS_CHROOT, unix.CAP_KILL, unix.CAP_AUDIT_WRITE,
}

// capMask is the two 32-bit words of a capability set.
func capMask(caps []uintptr) [2]uint32 {
	var m [2]uint32
	for _, c := range caps {
		m[c/32] |= 1 << (c % 32)
	}
	return m
}

// lastCap is the highest capability the kernel knows.
func lastCap() uintptr {
	var n uintptr
	if _, err := fmt.Sscan(readFirstLine("/proc/sys/kernel/cap_last_cap"), &n); err != nil {
		return unix.CAP_LAST_CAP
	}
	return n
}

// dropCapabilities leaves the calling thread with docker's default set.
// The order follows capabilities(7): the bounding set first, which needs
// CAP_SETPCAP, then capset(2) with effective and permitted set to the
// default and inheritable empty (as docker does since CVE-2022-24769); the
// ambient set of a thread is cleared by the smaller permitted set. It acts
// on this thread only, so the caller must hold it locked until execve.
func dropCapabilities(last uintptr) error {
	keep := capMask(defaultCaps)
	for c := uintptr(0); c <= last; c++ {
		if c < 64 && keep[c/32]&(1<<(c%32)) != 0 {
			continue
		}
		if err := prctl(unix.PR_CAPBSET_DROP, c, "PR_CAPBSET_DROP"); err != nil {
			return err
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: keep[0], Permitted: keep[0]},
		{Effective: keep[1], Permitted: keep[1]},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset %#x%08x: %w", keep[1], keep[0], err)
	}
	return nil
}
