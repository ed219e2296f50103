package engine

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"minidocker/internal/human"
)

// defaultProfile is docker's default seccomp profile, kept as data in
// docker's own format: seccomp/default.json of github.com/moby/profiles
// (commit 3c28324314729dbade8287e868eef6338c42807a, Apache-2.0), unchanged.
//
//go:embed seccomp_default.json
var defaultProfile []byte

// The values of Security.Seccomp that are not a profile.
const (
	SeccompDefault    = ""
	SeccompUnconfined = "unconfined"
)

// ErrProfile is a seccomp profile that cannot be read or applied.
var ErrProfile = errors.New("invalid seccomp profile")

// seccompProfile is a profile in docker's JSON format (moby/profiles'
// seccomp.Seccomp): a default action, the architectures, and rules that
// may apply only with some capabilities, on some architectures or from
// some kernel on.
type seccompProfile struct {
	DefaultAction   string           `json:"defaultAction"`
	DefaultErrnoRet *uint            `json:"defaultErrnoRet,omitempty"`
	Architectures   []string         `json:"architectures,omitempty"`
	ArchMap         []seccompArchMap `json:"archMap,omitempty"`
	Flags           []string         `json:"flags,omitempty"`
	ListenerPath    string           `json:"listenerPath,omitempty"`
	Syscalls        []seccompSyscall `json:"syscalls"`
}

// seccompArchMap is an architecture and those its programs may also use
// (x86-64's i386 and x32).
type seccompArchMap struct {
	Arch      string   `json:"architecture"`
	SubArches []string `json:"subArchitectures"`
}

// seccompSyscall is one rule: an action for some system calls, perhaps
// only for some argument values and under conditions.
type seccompSyscall struct {
	Name     string            `json:"name,omitempty"`
	Names    []string          `json:"names,omitempty"`
	Action   string            `json:"action"`
	ErrnoRet *uint             `json:"errnoRet,omitempty"`
	Args     []seccompArg      `json:"args,omitempty"`
	Comment  string            `json:"comment,omitempty"`
	Includes *seccompCondition `json:"includes,omitempty"`
	Excludes *seccompCondition `json:"excludes,omitempty"`
}

// seccompArg compares one argument of a call.
type seccompArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

// seccompCondition is when a rule applies (includes: all of it holds) or not
// (excludes: any of it holds).
type seccompCondition struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// seccompActions are the actions this engine applies; SCMP_ACT_NOTIFY
// needs an agent, which there is none of.
var seccompActions = []string{
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
	"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",
}

var seccompOps = []string{
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
}

// maxErrno is the largest errno a filter can return (SECCOMP_RET_DATA is
// 16 bits; the kernel caps errno at 4095).
const maxErrno = 4095

// parseProfile reads and checks a profile in docker's format. A profile
// with neither a default action nor rules is no filter, as in docker:
// unconfined reports it.
func parseProfile(b []byte) (p seccompProfile, unconfined bool, err error) {
	bad := func(format string, a ...any) (seccompProfile, bool, error) {
		return seccompProfile{}, false, fmt.Errorf("%w: "+format, append([]any{ErrProfile}, a...)...)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return bad("%v", err)
	}
	if p.DefaultAction == "" && len(p.Syscalls) == 0 {
		return p, true, nil
	}
	if err := checkAction(p.DefaultAction, p.DefaultErrnoRet); err != nil {
		return bad("default action: %v", err)
	}
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		return bad("both architectures and archMap are given")
	}
	if p.ListenerPath != "" {
		return bad("listenerPath: no seccomp agents here")
	}
	if len(p.Flags) > 0 {
		return bad(`flag "%s" is not supported`, human.Visible(p.Flags[0]))
	}
	for i, s := range p.Syscalls {
		if s.Name != "" && len(s.Names) > 0 {
			return bad("syscalls[%d]: both name and names are given", i)
		}
		if s.Name == "" && len(s.Names) == 0 {
			return bad("syscalls[%d]: no names", i)
		}
		if err := checkAction(s.Action, s.ErrnoRet); err != nil {
			return bad("syscalls[%d]: %v", i, err)
		}
		for _, a := range s.Args {
			if a.Index > 5 {
				return bad("syscalls[%d]: argument index %d: a call has 6", i, a.Index)
			}
			if !slices.Contains(seccompOps, a.Op) {
				return bad(`syscalls[%d]: unknown operator "%s"`, i, human.Visible(a.Op))
			}
		}
		for _, f := range []*seccompCondition{s.Includes, s.Excludes} {
			if f == nil || f.MinKernel == "" {
				continue
			}
			if _, err := parseKernelVersion(f.MinKernel); err != nil {
				return bad("syscalls[%d]: %v", i, err)
			}
		}
	}
	return p, false, nil
}

func checkAction(a string, errno *uint) error {
	if !slices.Contains(seccompActions, a) {
		return fmt.Errorf(`unknown action "%s"`, human.Visible(a))
	}
	if errno != nil && *errno > maxErrno {
		return fmt.Errorf("errno %d is above %d", *errno, maxErrno)
	}
	return nil
}

// kernelVersion is a kernel's major and minor version.
type kernelVersion [2]uint64

// parseKernelVersion reads "major.minor" (a profile's minKernel) or the
// start of a kernel release ("6.1.0-13-amd64").
func parseKernelVersion(s string) (kernelVersion, error) {
	major, rest, ok := strings.Cut(s, ".")
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		rest = rest[:end]
	}
	a, err1 := strconv.ParseUint(major, 10, 16)
	b, err2 := strconv.ParseUint(rest, 10, 16)
	if !ok || err1 != nil || err2 != nil || a == 0 && b == 0 {
		return kernelVersion{}, fmt.Errorf(`kernel version "%s": want major.minor`, human.Visible(s))
	}
	return kernelVersion{a, b}, nil
}

func (k kernelVersion) atLeast(m kernelVersion) bool {
	return k[0] > m[0] || k[0] == m[0] && k[1] >= m[1]
}

// filterPlan is a profile resolved for one container: the architectures,
// the default action and the rules that apply, in order. It is what the
// BPF is compiled from.
type filterPlan struct {
	Default seccompAction
	Arches  []string // SCMP_ARCH_*, the native one first
	Rules   []filterRule
}

// seccompAction is an action and, for ERRNO and TRACE, its errno.
type seccompAction struct {
	Name  string
	Errno uint
}

// filterRule is an action for calls, when all of Args hold.
type filterRule struct {
	Names  []string
	Action seccompAction
	Args   []seccompArg
}

// resolveEnv is what a profile's conditions are evaluated against.
type resolveEnv struct {
	Caps   capSet        // the bounding set
	GoArch string        // runtime.GOARCH
	Kernel kernelVersion // the running kernel
}

// goArches are, for runtime.GOARCH, the architecture's name in a profile's
// includes and excludes, and in libseccomp.
var goArches = map[string][2]string{
	"amd64":   {"amd64", "SCMP_ARCH_X86_64"},
	"386":     {"x86", "SCMP_ARCH_X86"},
	"arm64":   {"arm64", "SCMP_ARCH_AARCH64"},
	"arm":     {"arm", "SCMP_ARCH_ARM"},
	"ppc64le": {"ppc64le", "SCMP_ARCH_PPC64LE"},
	"s390x":   {"s390x", "SCMP_ARCH_S390X"},
	"riscv64": {"riscv64", "SCMP_ARCH_RISCV64"},
	"loong64": {"loongarch64", "SCMP_ARCH_LOONGARCH64"},
}

// resolve applies p's conditions as docker does (moby/profiles'
// setupSeccomp): a rule is kept when all of its includes hold (every
// capability in the bounding set, this architecture, at least the
// kernel) and none of its excludes does. An errno left out is EPERM.
func (p seccompProfile) resolve(env resolveEnv) filterPlan {
	arch := goArches[env.GoArch]
	plan := filterPlan{Default: action(p.DefaultAction, p.DefaultErrnoRet)}
	plan.Arches = append(plan.Arches, p.Architectures...)
	for _, m := range p.ArchMap {
		if m.Arch == arch[1] {
			plan.Arches = append(append(plan.Arches, m.Arch), m.SubArches...)
			break
		}
	}
	hasCap := func(name string) bool {
		c, ok := capByName(name)
		return ok && env.Caps.has(c)
	}
	atLeast := func(v string) bool {
		k, err := parseKernelVersion(v)
		return err == nil && env.Kernel.atLeast(k)
	}
	for _, s := range p.Syscalls {
		if ex := s.Excludes; ex != nil {
			if slices.Contains(ex.Arches, arch[0]) || slices.ContainsFunc(ex.Caps, hasCap) ||
				ex.MinKernel != "" && atLeast(ex.MinKernel) {
				continue
			}
		}
		if in := s.Includes; in != nil {
			if len(in.Arches) > 0 && !slices.Contains(in.Arches, arch[0]) ||
				slices.ContainsFunc(in.Caps, func(c string) bool { return !hasCap(c) }) ||
				in.MinKernel != "" && !atLeast(in.MinKernel) {
				continue
			}
		}
		names := s.Names
		if s.Name != "" {
			names = []string{s.Name}
		}
		plan.Rules = append(plan.Rules, filterRule{Names: names, Action: action(s.Action, s.ErrnoRet), Args: s.Args})
	}
	return plan
}

func action(name string, errno *uint) seccompAction {
	a := seccompAction{Name: name}
	switch {
	case errno != nil:
		a.Errno = *errno
	case name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE":
		a.Errno = 1 // EPERM
	}
	return a
}

// nativeEnv is the resolveEnv of this machine for caps.
func nativeEnv(caps capSet) resolveEnv {
	k, _ := parseKernelVersion(kernelRelease())
	return resolveEnv{Caps: caps, GoArch: runtime.GOARCH, Kernel: k}
}
