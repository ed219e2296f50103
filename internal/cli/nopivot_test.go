package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"minidocker/engine"
	"minidocker/internal/testutil"
)

// escapeScript is the pivot_root lesson's escape for perl -e, with only
// perl's builtins: chroot(2) into a new directory without entering it,
// ".." 64 times from the working directory, now outside the root, then
// chroot(".") where that ended, and list "/".
const escapeScript = `mkdir "/tmp/jail"; chroot "/tmp/jail" or die "chroot: $!\n"; chdir ".." for 1..64; ` +
	`chroot "." or die "chroot .: $!\n"; opendir(my $d, "/") or die; print join(" ", sort grep { !/^\.\.?$/ } readdir $d), "\n"`

// TestRunNoPivot runs the escape with perl of the default image in a
// container entered by pivot_root and one entered as runc's --no-pivot:
// both keep it in the container's root (the kernel's ".." stops at a
// mount on "/" too); inspect says how each was entered.
func TestRunNoPivot(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	for _, flags := range [][]string{nil, {"--no-pivot"}} {
		t.Run(strings.Join(append([]string{"run"}, flags...), " "), func(t *testing.T) {
			// What / holds before the escape, then after it.
			script := `ls -A / | tr '\n' ' '; echo; perl -e '` + escapeScript + `'`
			args := append(append([]string{"run", "--rm"}, flags...), "base", "sh", "-c", script)
			code, stdout, stderr := cli(t, root, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			before, after, _ := strings.Cut(stdout, "\n")
			want, got := strings.Fields(before), strings.Fields(after)
			slices.Sort(want)
			if len(got) == 0 || !slices.Equal(got, want) {
				t.Errorf("the escape listed %q, not the container's root %q", got, want)
			}
		})
	}
	code, id, stderr := cli(t, root, "create", "--no-pivot", "base", "true")
	if code != 0 {
		t.Fatalf("create --no-pivot: %d %s", code, stderr)
	}
	id = strings.TrimSpace(id)
	t.Cleanup(func() { cli(t, root, "rm", id) })
	_, out, _ := cli(t, root, "inspect", id)
	var sts []engine.State
	if err := json.Unmarshal([]byte(out), &sts); err != nil || len(sts) != 1 {
		t.Fatalf("inspect: %v: %s", err, out)
	}
	if got := sts[0].Spec.Root; got != engine.RootNoPivot {
		t.Errorf("inspect: root %q, want %q", got, engine.RootNoPivot)
	}
}
