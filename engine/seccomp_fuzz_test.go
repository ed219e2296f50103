package engine

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseProfile feeds profiles (a user's --security-opt seccomp=FILE)
// to the reader, the resolver and the compiler: an error is fine, a panic
// or a program the kernel would refuse is not. Seeds: testdata/fuzz.
func FuzzParseProfile(f *testing.F) {
	f.Add(defaultProfile, uint64(capsOf(defaultCaps)))
	f.Add([]byte(denyMkdir), uint64(0))
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"syscalls":[{"name":"clone","action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":0,"value":2,"op":"SCMP_CMP_EQ"}],"includes":{"caps":["CAP_SYS_ADMIN"],"minKernel":"5.4"}}]}`), ^uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, caps uint64) {
		p, unconfined, err := parseProfile(b)
		if err != nil {
			if !errors.Is(err, ErrProfile) {
				t.Fatalf("error not ErrProfile: %v", err)
			}
			return
		}
		if unconfined {
			return
		}
		plan := p.resolve(nativeEnv(capSet(caps)))
		if len(plan.Rules) > len(p.Syscalls) {
			t.Fatalf("%d rules from %d", len(plan.Rules), len(p.Syscalls))
		}
		prog, err := buildFilter(b, capSet(caps))
		if err == nil && (len(prog) == 0 || len(prog)%8 != 0 || len(prog)/8 > bpfMaxInsns) {
			t.Fatalf("program of %d bytes", len(prog))
		}
	})
}

// FuzzCapability feeds --cap-add and --cap-drop values to the checker and
// to effectiveCaps.
func FuzzCapability(f *testing.F) {
	for _, s := range []string{"CAP_CHOWN", "chown", "ALL", "all", "cap_sys_admin", "", "CAP_", "bogus"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, name string, privileged bool) {
		err := CheckCapability(name)
		c, known := capByName(name)
		if (err == nil) != (known || strings.EqualFold(name, "ALL")) {
			t.Fatalf("%q: checked %v, known %v", name, err, known)
		}
		if known && !strings.EqualFold(strings.TrimPrefix(strings.ToUpper(name), "CAP_"), strings.TrimPrefix(capNames[c], "CAP_")) {
			t.Fatalf("%q is %s", name, capNames[c])
		}
		last := lastCap()
		s := effectiveCaps(privileged, []string{name}, []string{name}, last)
		if s&^allCaps(last) != 0 {
			t.Fatalf("%q: %#x beyond the kernel's", name, s)
		}
	})
}
