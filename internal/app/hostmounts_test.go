package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/engine"
	"minidocker/images"
	"minidocker/internal/testutil"
	"minidocker/overlay"
)

// Layer and container IDs of the fixtures in testdata/hosts.
var (
	podA, podB, podC, podD = strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64), strings.Repeat("d", 64)
	dockF1, dockE1, dockE2 = strings.Repeat("f1", 32), strings.Repeat("e1", 32), strings.Repeat("e2", 32)
)

// hostFixture copies the store metadata of testdata/hosts to a directory
// of the test's own and lays out their overlay directories as the drivers
// do: HOME/ID/diff, and HOME/l/SHORT → ../ID/diff.
func hostFixture(t *testing.T) (podman, docker string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/hosts")); err != nil {
		t.Fatal(err)
	}
	podman, docker = filepath.Join(dir, "podman"), filepath.Join(dir, "docker")
	layout(t, filepath.Join(podman, "overlay"), map[string]string{"SA": podA, "SB": podB}, podC, podD)
	layout(t, filepath.Join(docker, "overlay2"), map[string]string{"DF": dockF1}, dockE1, dockE2)
	return podman, docker
}

// layout makes HOME/ID/diff for the linked layers and the others, and the
// short links.
func layout(t *testing.T, home string, links map[string]string, others ...string) {
	t.Helper()
	for short, id := range links {
		others = append(others, id)
		if err := os.MkdirAll(filepath.Join(home, "l"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../"+id+"/diff", filepath.Join(home, "l", short)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range others {
		if err := os.MkdirAll(filepath.Join(home, id, "diff"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMountOwners names mounts as podman, docker and minidocker lay them
// out, from fixture metadata, and a mount no store knows by a process of
// its namespace.
func TestMountOwners(t *testing.T) {
	podman, docker := hostFixture(t)
	ph, dh := filepath.Join(podman, "overlay"), filepath.Join(docker, "overlay2")
	o := owners{proc: "/proc", stores: []*hostStore{readPodman(podman), readDocker(docker)},
		containers: map[uint64]engine.State{42: {ID: "c0ffee", Spec: engine.Spec{Name: "web1", Image: "base"},
			Rootfs: engine.Overlay{Upper: "/store/containers/c0ffee/upper", Work: "/store/containers/c0ffee/work"}}}}
	ovl := func(point string, lower []string, upper string) overlay.Mount {
		return overlay.Mount{FSType: "overlay", Point: point, Lower: lower, Upper: upper}
	}
	own := func(m overlay.Mount) overlay.HostMount { return overlay.HostMount{Mount: m, Own: true} }
	pid := os.Getpid()
	tests := []struct {
		name       string
		m          overlay.HostMount
		owner      Owner
		lower      []string
		ids, diffs []string
		upper      string
	}{
		{"podman container", own(ovl(filepath.Join(ph, podC, "merged"), []string{filepath.Join(ph, "l/SB"), filepath.Join(ph, "l/SA")}, filepath.Join(ph, podC, "diff"))),
			Owner{Engine: "podman", Container: "web", ID: strings.Repeat("9", 64), Image: "docker.io/library/alpine:3.19"},
			[]string{filepath.Join(ph, podB, "diff"), filepath.Join(ph, podA, "diff")}, []string{podB, podA},
			[]string{"sha256:" + strings.Repeat("f", 64), "sha256:" + podA}, filepath.Join(ph, podC, "diff")},
		{"podman, relative paths (mountFrom)", own(ovl(filepath.Join(ph, podD, "merged"), []string{"l/SB", "l/SA"}, podD+"/diff")),
			Owner{Engine: "podman", Container: "temp", ID: strings.Repeat("8", 64), Image: "localhost/base:latest"},
			[]string{filepath.Join(ph, podB, "diff"), filepath.Join(ph, podA, "diff")}, []string{podB, podA},
			[]string{"sha256:" + strings.Repeat("f", 64), "sha256:" + podA}, filepath.Join(ph, podD, "diff")},
		{"podman image mount", own(ovl("/mnt/img", []string{filepath.Join(ph, "l/SB"), filepath.Join(ph, "l/SA")}, "")),
			Owner{Engine: "podman", Image: "localhost/base:latest"},
			[]string{filepath.Join(ph, podB, "diff"), filepath.Join(ph, podA, "diff")}, []string{podB, podA},
			[]string{"sha256:" + strings.Repeat("f", 64), "sha256:" + podA}, ""},
		{"docker container", own(ovl(filepath.Join(dh, dockE1, "merged"), []string{filepath.Join(dh, "l/DF")}, filepath.Join(dh, dockE1, "diff"))),
			Owner{Engine: "docker", Container: "db", ID: strings.Repeat("9", 64), Image: "postgres:16"},
			[]string{filepath.Join(dh, dockF1, "diff")}, []string{dockF1}, []string{"sha256:" + strings.Repeat("4", 64)}, filepath.Join(dh, dockE1, "diff")},
		{"docker container, image by ID", own(ovl(filepath.Join(dh, dockE2, "merged"), []string{filepath.Join(dh, "l/DF")}, filepath.Join(dh, dockE2, "diff"))),
			Owner{Engine: "docker", Container: "cache", ID: strings.Repeat("7", 64), Image: "redis:7"},
			[]string{filepath.Join(dh, dockF1, "diff")}, []string{dockF1}, []string{"sha256:" + strings.Repeat("4", 64)}, filepath.Join(dh, dockE2, "diff")},
		{"minidocker container in its namespace", overlay.HostMount{Mount: ovl("/", []string{"/store/layers/ab12/diff"}, "/proc/self/fd/7"), Namespace: overlay.Namespace{Inode: 42, Pid: pid}},
			Owner{Engine: "minidocker", Container: "web1", ID: "c0ffee", Image: "base"},
			[]string{"/store/layers/ab12/diff"}, []string{"ab12"}, []string{""}, "/store/containers/c0ffee/upper"},
		{"unknown, another namespace", overlay.HostMount{Mount: ovl("/", []string{"/x/y"}, "/u"), Namespace: overlay.Namespace{Inode: 7, Pid: pid}},
			Owner{Process: readLine("/proc/self/comm") + " (pid " + strconv.Itoa(pid) + ")"}, []string{"/x/y"}, []string{""}, []string{""}, "/u"},
		{"unknown, own namespace", own(ovl("/m", []string{"/x/y"}, "")), Owner{}, []string{"/x/y"}, []string{""}, []string{""}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := o.name(tc.m)
			if diff := cmp.Diff(tc.owner, h.Owner); diff != "" {
				t.Errorf("owner (-want +got):\n%s", diff)
			}
			got := []any{h.Lower, h.Layers, h.DiffIDs, h.Upper}
			if diff := cmp.Diff([]any{tc.lower, tc.ids, tc.diffs, tc.upper}, got); diff != "" {
				t.Errorf("lower, IDs, diffIDs, upper (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnerString(t *testing.T) {
	for _, tc := range []struct {
		o    Owner
		want string
	}{
		{Owner{Engine: "podman", Container: "web", Image: "alpine:3"}, "podman container web (alpine:3)"},
		{Owner{Engine: "docker", Container: "db"}, "docker container db"},
		{Owner{Engine: "podman", Image: "alpine:3"}, "podman image alpine:3"},
		{Owner{Process: "sleep (pid 7)"}, "process sleep (pid 7)"},
		{Owner{}, ""},
	} {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
}

// TestBrokenStores: metadata that cannot be parsed names no owner and
// breaks nothing; the layers are still resolved and named.
func TestBrokenStores(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/hosts/broken")); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "overlay")
	layout(t, home, map[string]string{"SA": podA}, podC)
	s := readPodman(dir)
	if s == nil || len(s.Containers)+len(s.Layers)+len(s.Images) != 0 {
		t.Fatalf("broken store read as %+v", s)
	}
	if d := readDocker(filepath.Join(dir, "no docker")); d != nil {
		t.Errorf("a docker store where there is none: %+v", d)
	}
	o := owners{proc: "/proc", stores: []*hostStore{s}}
	h := o.name(overlay.HostMount{Own: true, Mount: overlay.Mount{FSType: "overlay", Point: filepath.Join(home, podC, "merged"),
		Lower: []string{filepath.Join(home, "l", "SA")}, Upper: filepath.Join(home, podC, "diff")}})
	if h.Owner != (Owner{}) || h.Layers[0] != podA || h.Lower[0] != filepath.Join(home, podA, "diff") {
		t.Errorf("named %+v, layers %v, lower %v", h.Owner, h.Layers, h.Lower)
	}
}

// TestHostMountsPodman mounts a real podman container, in a podman store
// of the test's own, and finds it named from that store's metadata, its
// lower layers by their IDs.
func TestHostMountsPodman(t *testing.T) {
	testutil.RequireRoot(t)
	podman := testutil.RequireTool(t, "podman")
	testutil.CheckMounts(t)
	dir := t.TempDir()
	a := New(filepath.Join(dir, "store"))
	s, err := a.Images()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBase(); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "base.tar")
	if err := s.SaveFile(archive, []string{"base"}, images.DockerArchive); err != nil {
		t.Fatal(err)
	}
	proot := filepath.Join(dir, "podman")
	pm := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(podman, append([]string{"--root", proot, "--runroot", filepath.Join(dir, "podman-run"),
			"--storage-driver", "overlay"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	pm("load", "-i", archive)
	pm("create", "--name", "owned", "localhost/base:latest", "true")
	merged := pm("mount", "owned")
	t.Cleanup(func() { pm("umount", "owned"); pm("rm", "-f", "owned"); pm("rmi", "-a", "-f") })

	ms, err := a.hostMounts(HostRoots{Podman: proot})
	if err != nil {
		t.Fatal(err)
	}
	var found *HostMount
	for i := range ms {
		if ms[i].Path() == merged {
			found = &ms[i]
		}
	}
	if found == nil {
		t.Fatalf("podman's mount %s not listed", merged)
	}
	want := Owner{Engine: "podman", Container: "owned", Image: "localhost/base:latest"}
	got := found.Owner
	got.ID = ""
	if got != want {
		t.Errorf("owner %+v, want %+v", found.Owner, want)
	}
	for i, l := range found.Lower {
		if found.Layers[i] == "" || strings.Contains(l, "/l/") || found.DiffIDs[i] == "" {
			t.Errorf("lower %d: %s named %q (diff %q), want a layer ID from the store", i, l, found.Layers[i], found.DiffIDs[i])
		}
	}
	// The layers read are what podman shows in the mount.
	stack, err := mountStack(*found)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stack.Merged.Lookup("/etc/passwd"); !ok {
		t.Error("/etc/passwd missing from the mount's merged view")
	}
}
