package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// securityScript prints what a container's process is allowed: its
// capability sets, no_new_privs and seccomp mode, whether it may make a
// user namespace, mount, make a directory, write /proc/sys, read a masked
// /proc file, and whether /sys is read-only.
const securityScript = `grep -E '^(CapPrm|CapEff|CapBnd|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status
busybox unshare -U -r true 2>/dev/null; echo unshare-user=$?
busybox unshare -m true 2>/dev/null; echo unshare-mount=$?
mkdir -p /tmp/m 2>/dev/null; mount -t tmpfs none /tmp/m 2>/dev/null; echo mount=$?
mkdir /tmp/d 2>/dev/null; echo mkdir=$?
echo 0 2>/dev/null > /proc/sys/kernel/ns_last_pid; echo proc-sys-write=$?
[ -n "$(head -c1 /proc/timer_list)" ] && echo timer_list=read || echo timer_list=empty
awk '$5 == "/sys" { split($6, o, ","); print "sys=" o[1] }' /proc/self/mountinfo
`

// denyMkdir is a profile given with --security-opt seccomp=FILE: everything
// but making directories, refused with EACCES.
const denyMkdir = `{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`

// securityCases are the specs the security tests run, each also with runc.
var securityCases = []struct {
	name string
	spec Spec
	want []string // lines of securityScript's output that must be there
}{
	{"default", Spec{}, []string{"CapEff:\t00000000a80425fb", "Seccomp:\t2", "Seccomp_filters:\t1", "NoNewPrivs:\t0", "unshare-user=1", "unshare-mount=1", "mount=1", "mkdir=0", "timer_list=empty", "sys=ro"}},
	{"unconfined", Spec{Security: Security{Seccomp: SeccompUnconfined}}, []string{"Seccomp:\t0", "unshare-user=0", "mount=1"}},
	{"no-new-privileges", Spec{Security: Security{NoNewPrivileges: true}}, []string{"NoNewPrivs:\t1", "Seccomp:\t2", "Seccomp_filters:\t1", "unshare-user=1"}},
	{"cap-add sys_admin", Spec{Security: Security{CapAdd: []string{"sys_admin"}}}, []string{"CapEff:\t00000000a82425fb", "Seccomp:\t2", "unshare-user=0", "unshare-mount=0", "mount=0"}},
	{"cap-drop all, add chown", Spec{Security: Security{CapDrop: []string{"ALL"}, CapAdd: []string{"CAP_CHOWN"}}}, []string{"CapEff:\t0000000000000001", "CapBnd:\t0000000000000001", "mount=1"}},
	{"cap-drop net_raw", Spec{Security: Security{CapDrop: []string{"NET_RAW"}}}, []string{"CapEff:\t00000000a80405fb"}},
	{"profile", Spec{Security: Security{Seccomp: denyMkdir}}, []string{"Seccomp:\t2", "mkdir=1", "unshare-user=0"}},
	{"user 1000", Spec{Process: Process{User: "1000:1000"}}, []string{"CapEff:\t0000000000000000", "CapBnd:\t00000000a80425fb", "Seccomp:\t2", "unshare-user=1"}},
	{"user 1000 without setuid", Spec{Process: Process{User: "1000:1000"}, Security: Security{CapDrop: []string{"setuid", "setgid"}}}, []string{"CapEff:\t0000000000000000", "CapBnd:\t00000000a804253b"}},
	{"privileged", Spec{Privileged: true}, []string{"Seccomp:\t0", "unshare-user=0", "mount=0", "proc-sys-write=0", "timer_list=read", "sys=rw"}},
}

// TestSecurity runs securityScript in containers of each case, checks the
// lines that tell the case, and compares the whole output with runc's for
// the same capabilities, no_new_privs and seccomp rules (runc's default
// spec with what docker would add).
func TestSecurity(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	for _, tc := range securityCases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Process.Args = []string{"sh", "-c", securityScript}
			spec.Process.Cwd = "/tmp"
			r := f.run(t, e, spec, "")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.out)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.out, w+"\n") {
					t.Errorf("no line %q in:\n%s", w, r.out)
				}
			}
			if _, err := exec.LookPath("runc"); err != nil {
				t.Log("no runc to compare with")
				return
			}
			want := runcRun(t, f.layers[0], r.st, securityScript)
			if diff := cmp.Diff(want, r.out); diff != "" {
				t.Errorf("minidocker's output differs from runc's (-runc +minidocker):\n%s", diff)
			}
		})
	}
}

// TestSecurityExec checks that an exec is confined as its container is,
// and that exec --privileged gets every capability under the filter.
func TestSecurityExec(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	for _, tc := range securityCases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Process.Args = []string{"sleep", "1000"}
			spec.Layers = f.layers
			st, err := e.Create(spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Remove(st.ID, true) })
			if _, err := e.Start(st.ID, false); err != nil {
				t.Fatal(err)
			}
			var out syncBuffer
			code, err := e.Exec(st.ID, Process{Args: []string{"sh", "-c", securityScript}}, Stdio{Stdout: &out, Stderr: &out})
			if err != nil || code != 0 {
				t.Fatalf("exec: %d, %v: %s", code, err, out.String())
			}
			if tc.name == "default" {
				var priv syncBuffer
				code, err := e.Exec(st.ID, Process{Args: []string{"grep", "-E", "^(CapEff|Seccomp):", "/proc/self/status"}, Privileged: true}, Stdio{Stdout: &priv, Stderr: &priv})
				want := fmt.Sprintf("CapEff:\t%016x\nSeccomp:\t2\n", uint64(allCaps(lastCap())&permittedCaps()))
				if err != nil || code != 0 || priv.String() != want {
					t.Errorf("exec --privileged: %d, %v: %q, want %q", code, err, priv.String(), want)
				}
			}
			// The container's own process, in a fresh container of the
			// same spec, printed the same (and TestSecurity compares that
			// with runc).
			run := spec
			run.Process.Args = []string{"sh", "-c", securityScript}
			if want := f.run(t, e, run, "").out; out.String() != want {
				t.Errorf("exec printed (-run +exec):\n%s", cmp.Diff(want, out.String()))
			}
		})
	}
}

// runcRun runs script with runc in a bundle made from runc's default spec
// (runc spec), on rootfs (read-only, a tmpfs on /tmp), with st's
// confinement: the capabilities in every set but the inheritable and
// ambient ones, no_new_privs, the seccomp rules as docker hands them to
// runc, and for a privileged container no masked or read-only paths and a
// writable /sys.
func runcRun(t *testing.T, rootfs string, st State, script string) string {
	t.Helper()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	os.Mkdir(bundle, 0o700)
	if out, err := exec.Command("runc", "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	proc := cfg["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"sh", "-c", script}
	proc["noNewPrivileges"] = st.Confinement.NoNewPrivileges
	caps := st.Confinement.Capabilities
	proc["cwd"] = "/tmp"
	proc["capabilities"] = map[string]any{"bounding": caps, "effective": caps, "permitted": caps, "inheritable": []string{}, "ambient": []string{}}
	if st.Spec.Process.User == "1000:1000" {
		// docker gives a user other than root its bounding set only, "to
		// match what execve does" (moby's oci.SetCapabilities).
		proc["user"] = map[string]any{"uid": 1000, "gid": 1000}
		proc["capabilities"] = map[string]any{"bounding": caps, "effective": []string{}, "permitted": []string{}, "inheritable": []string{}, "ambient": []string{}}
	}
	cfg["root"] = map[string]any{"path": rootfs, "readonly": true}
	cfg["mounts"] = append(cfg["mounts"].([]any), map[string]any{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "mode=1777"}})
	linux := cfg["linux"].(map[string]any)
	if st.Spec.Privileged {
		linux["maskedPaths"], linux["readonlyPaths"] = []string{}, []string{}
		for _, m := range cfg["mounts"].([]any) {
			m := m.(map[string]any)
			if m["destination"] == "/sys" {
				m["options"] = []string{"nosuid", "noexec", "nodev"}
			}
		}
	}
	if st.Confinement.Seccomp != confinedUnconfined {
		profile := []byte(st.Spec.Security.Seccomp)
		if st.Spec.Security.Seccomp == SeccompDefault {
			profile = defaultProfile
		}
		p, _, err := parseProfile(profile)
		if err != nil {
			t.Fatal(err)
		}
		linux["seccomp"] = ociSeccomp(p.resolve(nativeEnv(capsFromNames(caps))))
	}
	b, err = json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("minidocker-test-%d-%s", os.Getpid(), st.ShortID())
	cmd := exec.Command("runc", "--root", filepath.Join(dir, "state"), "run", "--bundle", bundle, id)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("runc run: %v: %s", err, stderr.String())
	}
	return out.String()
}

// ociSeccomp is plan as the runtime spec's linux.seccomp, which is what
// docker hands runc once it has resolved its profile.
func ociSeccomp(plan filterPlan) map[string]any {
	withErrno := func(m map[string]any, key string, a seccompAction) {
		if a.Name == "SCMP_ACT_ERRNO" || a.Name == "SCMP_ACT_TRACE" {
			m[key] = a.Errno
		}
	}
	var calls []map[string]any
	for _, r := range plan.Rules {
		c := map[string]any{"names": r.Names, "action": r.Action.Name}
		withErrno(c, "errnoRet", r.Action)
		if len(r.Args) > 0 {
			c["args"] = r.Args
		}
		calls = append(calls, c)
	}
	s := map[string]any{"defaultAction": plan.Default.Name, "architectures": plan.Arches, "syscalls": calls}
	withErrno(s, "defaultErrnoRet", plan.Default)
	return s
}

// TestDefaultFilterInThread loads docker's default filter on a thread of
// the test (with no_new_privs, which needs no privilege) and makes the
// calls it decides on: refused with EPERM, newer than the profile and
// refused with ENOSYS (the stub, and clone3's own rule), allowed.
func TestDefaultFilterInThread(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps capSet
		want map[string]unix.Errno
	}{
		{"docker's default caps", capsOf(defaultCaps), map[string]unix.Errno{
			"unshare(0)": unix.EPERM, "clone3": unix.ENOSYS, "syscall 1000": unix.ENOSYS, "getppid": 0, "personality(0xffffffff)": 0, "personality(1)": unix.EPERM,
		}},
		{"with CAP_SYS_ADMIN", capsOf(append(defaultCaps[:len(defaultCaps):len(defaultCaps)], unix.CAP_SYS_ADMIN)), map[string]unix.Errno{
			"unshare(0)": 0, "syscall 1000": unix.ENOSYS, "getppid": 0,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := buildFilter(defaultProfile, tc.caps)
			if err != nil {
				t.Fatal(err)
			}
			calls := map[string][4]uintptr{
				"unshare(0)": {unix.SYS_UNSHARE}, "clone3": {unix.SYS_CLONE3}, "syscall 1000": {1000},
				"getppid": {unix.SYS_GETPPID}, "personality(0xffffffff)": {unix.SYS_PERSONALITY, 0xffffffff},
				"personality(1)": {unix.SYS_PERSONALITY, 1},
			}
			got := make(chan map[string]unix.Errno)
			go func() {
				// Never unlocked: the thread, filter and all, ends with
				// the goroutine.
				runtime.LockOSThread()
				errs := map[string]unix.Errno{}
				if err := prctl(unix.PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS"); err != nil {
					errs["no_new_privs"] = err.(interface{ Unwrap() error }).Unwrap().(unix.Errno)
				} else if err := loadFilter(prog); err != nil {
					errs["load"] = unix.EINVAL
				}
				for name := range tc.want {
					c := calls[name]
					// clone3 with a NULL argument is EFAULT when allowed.
					_, _, e := unix.RawSyscall(c[0], c[1], c[2], c[3])
					errs[name] = e
				}
				got <- errs
			}()
			if diff := cmp.Diff(tc.want, <-got); diff != "" {
				t.Errorf("errnos (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSecurityWire sends a processSecurity as the monitor does, followed
// by the go-ahead, and reads it back as the init does.
func TestSecurityWire(t *testing.T) {
	prog, err := buildFilter(defaultProfile, capsOf(defaultCaps))
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []processSecurity{
		{Caps: capsOf(defaultCaps), Filter: prog},
		{Caps: allCaps(40), NoNewPrivs: true},
	} {
		var buf bytes.Buffer
		json.NewEncoder(&buf).Encode(initConfig{Hostname: "h"})
		if err := sec.send(&buf); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte(goAhead)
		dec := json.NewDecoder(&buf)
		var c initConfig
		if err := dec.Decode(&c); err != nil {
			t.Fatal(err)
		}
		got, rest, err := receiveSecurity(dec, &buf)
		if err != nil {
			t.Fatal(err)
		}
		sec.FilterLen = len(sec.Filter)
		if got.Filter == nil && sec.Filter == nil {
			got.Filter = nil
		}
		if diff := cmp.Diff(sec, got, cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("(-sent +received):\n%s", diff)
		}
		if err := awaitGo(rest); err != nil {
			t.Errorf("go-ahead after the filter: %v", err)
		}
	}
}
