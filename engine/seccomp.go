package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A container's seccomp filter is compiled from its profile (docker's
// default, or one given with --security-opt seccomp=FILE) and its
// bounding set, which the profile's rules depend on, to a classic BPF
// program; the init (or an exec's helper) only loads that program with
// one seccomp(2) call just before execve. Compiling docker's profile with
// libseccomp takes milliseconds, so the program is compiled by the
// monitor while the init builds the root file system, and kept in the
// store (Root/seccomp/KEY) for the next container with the same profile,
// capabilities, architecture, kernel and library.

// seccompCacheDir is the compiled filters' directory of the store that
// holds containerDir.
func seccompCacheDir(containerDir string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(containerDir)), "seccomp")
}

// filterKey names the program of profile for caps on this machine.
func filterKey(profile []byte, caps capSet) string {
	h := sha256.New()
	fmt.Fprintf(h, "minidocker seccomp 1\x00%s\x00%s\x00%s\x00%#x\x00", runtime.GOARCH, kernelRelease(), seccompLibrary(), uint64(caps))
	h.Write(profile)
	return hex.EncodeToString(h.Sum(nil))
}

// seccompFilter is the BPF program of profile (the default one when
// empty) for a process whose bounding set is caps, from the cache in dir
// or compiled and then cached; nil for a profile that is no filter.
func seccompFilter(dir string, profile string, caps capSet) ([]byte, error) {
	b := []byte(profile)
	if profile == SeccompDefault {
		b = defaultProfile
	}
	if profile == SeccompUnconfined {
		return nil, nil
	}
	key := filepath.Join(dir, filterKey(b, caps))
	if prog, err := os.ReadFile(key); err == nil && len(prog)%8 == 0 && len(prog) > 0 {
		return prog, nil
	}
	prog, err := buildFilter(b, caps)
	if err != nil || prog == nil {
		return prog, err
	}
	// A cache that cannot be written only costs the next start the
	// compilation again.
	if os.MkdirAll(dir, 0o700) == nil {
		if f, err := os.CreateTemp(dir, ".bpf-*"); err == nil {
			_, werr := f.Write(prog)
			if errors.Join(werr, f.Close()) == nil {
				os.Rename(f.Name(), key)
			}
			os.Remove(f.Name())
		}
	}
	return prog, nil
}

// buildFilter compiles profile for caps: parse, resolve for this machine,
// compile, and the ENOSYS stub in front.
func buildFilter(profile []byte, caps capSet) ([]byte, error) {
	p, unconfined, err := parseProfile(profile)
	if err != nil || unconfined {
		return nil, err
	}
	plan := p.resolve(nativeEnv(caps))
	prog, highest, err := compileFilter(plan)
	if err != nil {
		return nil, err
	}
	if plan.Default.Name != "SCMP_ACT_ALLOW" && plan.Default.Name != "SCMP_ACT_LOG" {
		prog = append(enosysStub(highest), prog...)
	}
	if len(prog)/8 > bpfMaxInsns {
		return nil, fmt.Errorf("%w: %d BPF instructions, the kernel takes %d", ErrProfile, len(prog)/8, bpfMaxInsns)
	}
	return prog, nil
}

// bpfMaxInsns is BPF_MAXINSNS, the longest program seccomp(2) loads.
const bpfMaxInsns = 4096

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const (
	bpfLdW   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	bpfJset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfJa    = unix.BPF_JMP | unix.BPF_JA
	bpfRet   = unix.BPF_RET | unix.BPF_K
	x32Bit   = 0x40000000 // __X32_SYSCALL_BIT
	retErrno = 0x00050000 // SECCOMP_RET_ERRNO
)

// sockFilter is struct sock_filter.
type sockFilter struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// enosysStub is the program runc puts in front of a filter (its patchbpf):
// a call numbered above every call the profile names, on an architecture
// the profile knows, fails with ENOSYS rather than the default EPERM, so
// that a C library newer than the profile falls back to an older call
// (clone3 to clone, say) instead of reporting the refusal. x32 calls (the
// x86-64 audit arch with __X32_SYSCALL_BIT) are left to the filter. Its
// jumps go to the instruction after it, where the filter starts by
// loading the architecture itself.
func enosysStub(highest map[uint32]uint32) []byte {
	var arches []uint32
	for a := range highest {
		arches = append(arches, a)
	}
	slices.Sort(arches)
	// Per architecture: jeq arch; ld nr; [jset x32 → filter]; jgt highest → enosys, else → filter.
	var ins []sockFilter
	type fix struct{ at int } // jumps to patch: Jt to enosys, Jf to the filter
	var fixes []fix
	var jsets []int
	ins = append(ins, sockFilter{Code: bpfLdW, K: 4}) // seccomp_data.arch
	for _, a := range arches {
		n := 3
		if a == unix.AUDIT_ARCH_X86_64 {
			n = 4
		}
		ins = append(ins, sockFilter{Code: bpfJeq, K: a, Jf: uint8(n - 1)})
		ins = append(ins, sockFilter{Code: bpfLdW, K: 0}) // seccomp_data.nr
		if a == unix.AUDIT_ARCH_X86_64 {
			jsets = append(jsets, len(ins))
			ins = append(ins, sockFilter{Code: bpfJset, K: x32Bit})
		}
		fixes = append(fixes, fix{len(ins)})
		ins = append(ins, sockFilter{Code: bpfJgt, K: highest[a]})
	}
	// No architecture matched: on to the filter, which has its own rule.
	ins = append(ins, sockFilter{Code: bpfJa, K: 1})
	enosys := len(ins)
	ins = append(ins, sockFilter{Code: bpfRet, K: retErrno | uint32(unix.ENOSYS)})
	filter := len(ins)
	for _, f := range fixes {
		ins[f.at].Jt = uint8(enosys - f.at - 1)
		ins[f.at].Jf = uint8(filter - f.at - 1)
	}
	for _, at := range jsets {
		ins[at].Jt = uint8(filter - at - 1)
	}
	out := make([]byte, 0, 8*len(ins))
	for _, i := range ins {
		out = binary.NativeEndian.AppendUint16(out, i.Code)
		out = append(out, i.Jt, i.Jf)
		out = binary.NativeEndian.AppendUint32(out, i.K)
	}
	return out
}

// loadFilter installs prog on the calling thread with seccomp(2)
// SECCOMP_SET_MODE_FILTER. Without no_new_privs the kernel asks for
// CAP_SYS_ADMIN, so the caller loads it before dropping capabilities.
// The filter is the thread's only, which is enough: the thread is the one
// that calls execve, and the new program keeps its filter.
func loadFilter(prog []byte) error {
	if len(prog) == 0 {
		return nil
	}
	fprog := unix.SockFprog{Len: uint16(len(prog) / 8), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if e != 0 {
		return fmt.Errorf("seccomp SECCOMP_SET_MODE_FILTER (%d instructions): %w", fprog.Len, e)
	}
	return nil
}

// kernelRelease is uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}
