package engine

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestEffectiveCaps(t *testing.T) {
	def := capsOf(defaultCaps)
	const last = unix.CAP_CHECKPOINT_RESTORE
	for _, tc := range []struct {
		name       string
		privileged bool
		add, drop  []string
		want       capSet
	}{
		{"docker's default", false, nil, nil, def},
		{"privileged", true, []string{"chown"}, []string{"ALL"}, allCaps(last)},
		{"add by any spelling", false, []string{"sys_admin", "CAP_NET_ADMIN", "Sys_Time"}, nil, def | 1<<unix.CAP_SYS_ADMIN | 1<<unix.CAP_NET_ADMIN | 1<<unix.CAP_SYS_TIME},
		{"drop", false, nil, []string{"chown", "CAP_KILL"}, def &^ (1<<unix.CAP_CHOWN | 1<<unix.CAP_KILL)},
		{"add ALL, drop some", false, []string{"all"}, []string{"sys_admin"}, allCaps(last) &^ (1 << unix.CAP_SYS_ADMIN)},
		{"drop ALL, add some", false, []string{"chown"}, []string{"ALL"}, 1 << unix.CAP_CHOWN},
		{"add and drop the same", false, []string{"SYS_ADMIN"}, []string{"sys_admin"}, def | 1<<unix.CAP_SYS_ADMIN},
		{"beyond the kernel", false, []string{"ALL"}, nil, allCaps(last)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := effectiveCaps(tc.privileged, tc.add, tc.drop, last)
			if diff := cmp.Diff(tc.want.names(), got.names()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if got := capsFromNames(def.names()); got != def {
		t.Errorf("names and back: %#x, want %#x", got, def)
	}
}

func TestCheckCapability(t *testing.T) {
	for _, ok := range []string{"CAP_CHOWN", "chown", "Cap_Sys_Admin", "ALL", "all", "checkpoint_restore"} {
		if err := CheckCapability(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "CAP_", "CAP_ALL", "bogus", "CAP_CHOWN ", "chown\x00"} {
		if err := CheckCapability(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
}

// TestResolveDefault checks docker's capability- and architecture-
// conditional rules in its default profile, as docker resolves them.
func TestResolveDefault(t *testing.T) {
	p, unconfined, err := parseProfile(defaultProfile)
	if err != nil || unconfined {
		t.Fatalf("default profile: %v, unconfined %v", err, unconfined)
	}
	allowed := func(plan filterPlan, name string) []filterRule {
		var rs []filterRule
		for _, r := range plan.Rules {
			if slices.Contains(r.Names, name) {
				rs = append(rs, r)
			}
		}
		return rs
	}
	env := resolveEnv{Caps: capsOf(defaultCaps), GoArch: "amd64", Kernel: kernelVersion{6, 1}}
	plan := p.resolve(env)
	if diff := cmp.Diff([]string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}, plan.Arches); diff != "" {
		t.Errorf("arches (-want +got):\n%s", diff)
	}
	if plan.Default != (seccompAction{"SCMP_ACT_ERRNO", 1}) {
		t.Errorf("default %v, want ERRNO EPERM", plan.Default)
	}
	for _, name := range []string{"mount", "unshare", "setns", "umount2", "bpf", "reboot", "init_module", "iopl", "kcmp"} {
		if rs := allowed(plan, name); len(rs) != 0 {
			t.Errorf("%s has rules without the capability: %v", name, rs)
		}
	}
	if rs := allowed(plan, "clone3"); len(rs) != 1 || rs[0].Action != (seccompAction{"SCMP_ACT_ERRNO", uint(unix.ENOSYS)}) {
		t.Errorf("clone3 without CAP_SYS_ADMIN: %v, want ENOSYS", rs)
	}
	if rs := allowed(plan, "clone"); len(rs) != 1 || len(rs[0].Args) != 1 || rs[0].Args[0].Op != "SCMP_CMP_MASKED_EQ" {
		t.Errorf("clone without CAP_SYS_ADMIN: %v, want one masked rule", rs)
	}
	if rs := allowed(plan, "arch_prctl"); len(rs) != 1 {
		t.Errorf("arch_prctl on amd64: %v", rs)
	}

	env.Caps |= 1<<unix.CAP_SYS_ADMIN | 1<<unix.CAP_SYS_PTRACE
	plan = p.resolve(env)
	for _, name := range []string{"mount", "unshare", "setns", "umount2", "ptrace"} {
		if rs := allowed(plan, name); len(rs) == 0 || rs[0].Action.Name != "SCMP_ACT_ALLOW" {
			t.Errorf("%s with the capability: %v", name, rs)
		}
	}
	if rs := allowed(plan, "clone3"); len(rs) != 1 || rs[0].Action.Name != "SCMP_ACT_ALLOW" {
		t.Errorf("clone3 with CAP_SYS_ADMIN: %v", rs)
	}

	// ptrace without CAP_SYS_PTRACE comes back from 4.8 on, a minKernel.
	env = resolveEnv{Caps: capsOf(defaultCaps), GoArch: "amd64", Kernel: kernelVersion{4, 8}}
	if rs := allowed(p.resolve(env), "ptrace"); len(rs) != 1 {
		t.Errorf("ptrace on 4.8: %v", rs)
	}
	env.Kernel = kernelVersion{4, 7}
	if rs := allowed(p.resolve(env), "ptrace"); len(rs) != 0 {
		t.Errorf("ptrace on 4.7: %v", rs)
	}
	env.GoArch = "arm64"
	if plan := p.resolve(env); !slices.Equal(plan.Arches, []string{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}) || len(allowed(plan, "arch_prctl")) != 0 {
		t.Errorf("arm64: arches %v, arch_prctl %v", plan.Arches, allowed(plan, "arch_prctl"))
	}
}

func TestParseProfileErrors(t *testing.T) {
	for _, tc := range []struct{ profile, msg string }{
		{`{`, "unexpected end"},
		{`{"defaultAction": "SCMP_ACT_NOPE"}`, `unknown action "SCMP_ACT_NOPE"`},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}`, "errno 70000"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}`, "no names"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO"}]}`, "both name and names"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "op": "SCMP_CMP_EQ"}]}]}`, "argument index 6"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "SCMP_CMP_XX"}]}]}`, `operator "SCMP_CMP_XX"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_NOTIFY"}]}`, `unknown action "SCMP_ACT_NOTIFY"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4"}}]}`, `kernel version "4"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}`, "both architectures and archMap"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC"]}`, "not supported"},
	} {
		_, _, err := parseProfile([]byte(tc.profile))
		if !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want ErrProfile saying %q", tc.profile, err, tc.msg)
		}
	}
	if _, unconfined, err := parseProfile([]byte(`{}`)); err != nil || !unconfined {
		t.Errorf("empty profile: %v, unconfined %v; want no filter, as docker", err, unconfined)
	}
}

// TestPrivilegedPlan checks a privileged container's mounts: nothing of
// /proc masked or read-only, /sys writable, the rest as it was.
func TestPrivilegedPlan(t *testing.T) {
	plan := rootfsPlan("/c", nil, nil, false)
	got := privilegedPlan(plan)
	for _, m := range got {
		if m.Mask || m.ReadOnly && strings.HasPrefix(m.Target, "/proc/") {
			t.Errorf("privileged plan keeps %+v", m)
		}
		if m.Target == "/sys" && m.Flags&unix.MS_RDONLY != 0 {
			t.Errorf("/sys read-only: %+v", m)
		}
	}
	if want := len(plan) - len(maskedPaths) - len(readonlyPaths); len(got) != want {
		t.Errorf("%d mounts, want %d", len(got), want)
	}
}

// TestFilterCache checks that a filter is compiled once per profile and
// capability set and read back the same.
func TestFilterCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "seccomp")
	a, err := seccompFilter(dir, SeccompDefault, capsOf(defaultCaps))
	if err != nil {
		t.Fatal(err)
	}
	b, err := seccompFilter(dir, SeccompDefault, capsOf(defaultCaps))
	if err != nil || !slices.Equal(a, b) {
		t.Fatalf("cached program differs (%v)", err)
	}
	c, err := seccompFilter(dir, SeccompDefault, capsOf(defaultCaps)|1<<unix.CAP_SYS_ADMIN)
	if err != nil || slices.Equal(a, c) {
		t.Fatalf("program for CAP_SYS_ADMIN is the same (%v)", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("%d cache files, want 2", len(ents))
	}
	if p, err := seccompFilter(dir, SeccompUnconfined, 0); p != nil || err != nil {
		t.Errorf("unconfined: %d bytes, %v", len(p), err)
	}
}

// BenchmarkFilter is the monitor's part of a start for the default
// profile: compiled with libseccomp, or read from the cache.
func BenchmarkFilter(b *testing.B) {
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			if _, err := buildFilter(defaultProfile, capsOf(defaultCaps)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		for b.Loop() {
			if _, err := seccompFilter(dir, SeccompDefault, capsOf(defaultCaps)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestResolveMatchesDocker compares the resolution of docker's default
// profile with docker's own (testdata/seccomp/README.md): the same
// architectures, default action and rules, in the same order, for a
// bounding set of docker's defaults, with CAP_SYS_ADMIN, with every
// capability and with none.
func TestResolveMatchesDocker(t *testing.T) {
	type rule struct {
		Names    []string     `json:"names"`
		Action   string       `json:"action"`
		ErrnoRet *uint        `json:"errnoRet"`
		Args     []seccompArg `json:"args"`
	}
	type resolved struct {
		DefaultAction   string   `json:"defaultAction"`
		DefaultErrnoRet *uint    `json:"defaultErrnoRet"`
		Architectures   []string `json:"architectures"`
		Syscalls        []rule   `json:"syscalls"`
	}
	// docker leaves an errno it was not given to the runtime, which makes
	// it EPERM; resolve fills it in.
	errno := func(action string, e *uint) *uint {
		if e == nil && (action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE") {
			one := uint(1)
			return &one
		}
		return e
	}
	p, _, err := parseProfile(defaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	for name, caps := range map[string]capSet{
		"default":   capsOf(defaultCaps),
		"sys_admin": capsOf(defaultCaps) | 1<<unix.CAP_SYS_ADMIN,
		"all":       allCaps(unix.CAP_CHECKPOINT_RESTORE),
		"none":      0,
	} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "seccomp", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want resolved
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			want.DefaultErrnoRet = errno(want.DefaultAction, want.DefaultErrnoRet)
			for i, r := range want.Syscalls {
				want.Syscalls[i].ErrnoRet = errno(r.Action, r.ErrnoRet)
			}
			plan := p.resolve(resolveEnv{Caps: caps, GoArch: "amd64", Kernel: kernelVersion{6, 18}})
			errnoOf := func(a seccompAction) *uint {
				if a.Name != "SCMP_ACT_ERRNO" && a.Name != "SCMP_ACT_TRACE" {
					return nil
				}
				return &a.Errno
			}
			got := resolved{DefaultAction: plan.Default.Name, DefaultErrnoRet: errnoOf(plan.Default), Architectures: plan.Arches}
			for _, r := range plan.Rules {
				got.Syscalls = append(got.Syscalls, rule{Names: r.Names, Action: r.Action.Name, ErrnoRet: errnoOf(r.Action), Args: r.Args})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("resolved profile (-docker +minidocker):\n%s", diff)
			}
		})
	}
}
