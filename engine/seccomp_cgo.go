//go:build cgo

package engine

// libseccomp is the shared library Debian installs with every system
// (libseccomp2), as libseccomp-golang links it: measured in one session,
// a statically linked one made the binary start 0.3 to 1.2 ms slower
// (minidocker --help, 100 runs each, alternated), and every process of a
// start is this binary.

import (
	"fmt"
	"io"
	"os"
	"strings"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// seccompLibrary names the library that compiles filters, for the cache key.
func seccompLibrary() string {
	a, b, c := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("libseccomp %d.%d.%d", a, b, c)
}

// compileFilter turns plan into a classic BPF program (struct sock_filter
// items, seccomp(2)) with libseccomp, as runc does: rules whose action is
// the default are left out (libseccomp refuses them), names libseccomp
// does not know are skipped (a profile names calls newer than it), and a
// rule that compares one argument twice becomes one rule per comparison
// (libseccomp would AND them). It also returns, per audit architecture,
// the highest call number any rule names, for the ENOSYS stub.
func compileFilter(plan filterPlan) ([]byte, map[uint32]uint32, error) {
	def, err := scmpAction(plan.Default)
	if err != nil {
		return nil, nil, err
	}
	f, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, nil, fmt.Errorf("seccomp_init: %w", err)
	}
	defer f.Release()
	var arches []libseccomp.ScmpArch
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, nil, fmt.Errorf("seccomp native arch: %w", err)
	}
	arches = append(arches, native)
	for _, name := range plan.Arches {
		// libseccomp names them without the prefix, in lower case.
		a, err := libseccomp.GetArchFromString(strings.ToLower(strings.TrimPrefix(name, "SCMP_ARCH_")))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: architecture \"%s\"", ErrProfile, human.Visible(name))
		}
		if err := f.AddArch(a); err != nil {
			return nil, nil, fmt.Errorf("seccomp_arch_add %s: %w", name, err)
		}
		arches = append(arches, a)
	}
	if err := f.SetNoNewPrivsBit(false); err != nil {
		return nil, nil, fmt.Errorf("seccomp no_new_privs attribute: %w", err)
	}
	// A binary tree of the calls rather than a list: fewer instructions
	// per call for a long profile (libseccomp before 2.6 misbuilds one
	// of no rules, hence the threshold runc uses too).
	if len(plan.Rules) > 32 {
		f.SetOptimize(2) // older libseccomp: a list, still correct
	}
	highest := map[uint32]uint32{}
	for _, r := range plan.Rules {
		act, err := scmpAction(r.Action)
		if err != nil {
			return nil, nil, err
		}
		if act == def {
			continue
		}
		conds, split, err := scmpConditions(r.Args)
		if err != nil {
			return nil, nil, err
		}
		for _, name := range r.Names {
			nr, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				continue
			}
			for _, a := range arches {
				if n, err := libseccomp.GetSyscallFromNameByArch(name, a); err == nil && n >= 0 {
					if audit, ok := auditArch(a); ok && uint32(n) > highest[audit] {
						highest[audit] = uint32(n)
					}
				}
			}
			switch {
			case len(conds) == 0:
				err = f.AddRule(nr, act)
			case split:
				for _, c := range conds {
					if err = f.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
						break
					}
				}
			default:
				err = f.AddRuleConditional(nr, act, conds)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("seccomp rule %s %s: %w", name, r.Action.Name, err)
			}
		}
	}
	bpf, err := exportBPF(f)
	return bpf, highest, err
}

// exportBPF is the filter's program, through a memfd (libseccomp before
// 2.6 exports to a file descriptor only).
func exportBPF(f *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer mem.Close()
	if err := f.ExportBPF(mem); err != nil {
		return nil, fmt.Errorf("seccomp_export_bpf: %w", err)
	}
	if _, err := mem.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(mem)
}

func scmpAction(a seccompAction) (libseccomp.ScmpAction, error) {
	switch a.Name {
	case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD":
		return libseccomp.ActKillThread, nil
	case "SCMP_ACT_KILL_PROCESS":
		return libseccomp.ActKillProcess, nil
	case "SCMP_ACT_TRAP":
		return libseccomp.ActTrap, nil
	case "SCMP_ACT_ERRNO":
		return libseccomp.ActErrno.SetReturnCode(int16(a.Errno)), nil
	case "SCMP_ACT_TRACE":
		return libseccomp.ActTrace.SetReturnCode(int16(a.Errno)), nil
	case "SCMP_ACT_ALLOW":
		return libseccomp.ActAllow, nil
	case "SCMP_ACT_LOG":
		return libseccomp.ActLog, nil
	}
	return 0, fmt.Errorf("%w: unknown action \"%s\"", ErrProfile, human.Visible(a.Name))
}

var scmpOps = map[string]libseccomp.ScmpCompareOp{
	"SCMP_CMP_NE": libseccomp.CompareNotEqual, "SCMP_CMP_LT": libseccomp.CompareLess,
	"SCMP_CMP_LE": libseccomp.CompareLessOrEqual, "SCMP_CMP_EQ": libseccomp.CompareEqual,
	"SCMP_CMP_GE": libseccomp.CompareGreaterEqual, "SCMP_CMP_GT": libseccomp.CompareGreater,
	"SCMP_CMP_MASKED_EQ": libseccomp.CompareMaskedEqual,
}

// scmpConditions are args as libseccomp conditions; split is set when an
// argument is compared more than once.
func scmpConditions(args []seccompArg) (conds []libseccomp.ScmpCondition, split bool, err error) {
	var seen [6]bool
	for _, a := range args {
		op, ok := scmpOps[a.Op]
		if !ok || a.Index > 5 {
			return nil, false, fmt.Errorf("%w: argument %d \"%s\"", ErrProfile, a.Index, human.Visible(a.Op))
		}
		vals := []uint64{a.Value}
		if op == libseccomp.CompareMaskedEqual {
			vals = append(vals, a.ValueTwo)
		}
		c, err := libseccomp.MakeCondition(a.Index, op, vals...)
		if err != nil {
			return nil, false, fmt.Errorf("%w: argument %d: %v", ErrProfile, a.Index, err)
		}
		split = split || seen[a.Index]
		seen[a.Index] = true
		conds = append(conds, c)
	}
	return conds, split, nil
}

// auditArch is the AUDIT_ARCH_* value the kernel puts in seccomp_data for
// a, for the architectures the ENOSYS stub knows.
func auditArch(a libseccomp.ScmpArch) (uint32, bool) {
	switch a {
	case libseccomp.ArchAMD64:
		return unix.AUDIT_ARCH_X86_64, true
	case libseccomp.ArchX86:
		return unix.AUDIT_ARCH_I386, true
	case libseccomp.ArchARM64:
		return unix.AUDIT_ARCH_AARCH64, true
	case libseccomp.ArchARM:
		return unix.AUDIT_ARCH_ARM, true
	}
	return 0, false
}
