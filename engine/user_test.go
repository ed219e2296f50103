package engine

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

const (
	testPasswd = `root:x:0:0:root:/root:/bin/sh
# a comment
app:x:1000:1000:App:/home/app:/bin/sh
broken:x:notanumber:1:::
svc:x:1001:1001::/srv:/bin/false
`
	testGroup = `root:x:0:
app:x:1000:
audio:x:29:app,svc
video:x:44:svc,app
staff:x:50:
`
)

func TestParseUser(t *testing.T) {
	tests := []struct {
		spec    string
		want    execUser
		wantErr string
	}{
		{"", execUser{Uid: 0, Gid: 0, Home: "/root"}, ""},
		{"app", execUser{Uid: 1000, Gid: 1000, Sgids: []int{29, 44}, Home: "/home/app"}, ""},
		{"1000", execUser{Uid: 1000, Gid: 1000, Sgids: []int{29, 44}, Home: "/home/app"}, ""},
		{"app:staff", execUser{Uid: 1000, Gid: 50, Home: "/home/app"}, ""},
		{"app:44", execUser{Uid: 1000, Gid: 44, Home: "/home/app"}, ""},
		{"svc:4242", execUser{Uid: 1001, Gid: 4242, Home: "/srv"}, ""},
		{"4242", execUser{Uid: 4242, Gid: 0, Home: "/"}, ""},
		{"4242:4343", execUser{Uid: 4242, Gid: 4343, Home: "/"}, ""},
		{"4242:staff", execUser{Uid: 4242, Gid: 50, Home: "/"}, ""},
		{"nosuch", execUser{}, "unable to find user nosuch: no matching entries in passwd file"},
		{"broken", execUser{}, "unable to find user broken"},
		{"app:nogroup", execUser{}, "unable to find group nogroup: no matching entries in group file"},
		{"-1", execUser{}, "uid out of range"},
		{"1:99999999999", execUser{}, "gid out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseUser(tt.spec, strings.NewReader(testPasswd), strings.NewReader(testGroup))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := parseUser("x", nil, nil); !errors.Is(err, ErrNoUser) {
		t.Errorf("no passwd file: %v, want ErrNoUser", err)
	}
}

func TestResolvConf(t *testing.T) {
	tests := []struct{ name, host, want string }{
		{"loopback dropped", "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver ::1\nsearch example.org\noptions edns0\n",
			"# generated\nnameserver 192.0.2.1\nsearch example.org\noptions edns0\n"},
		{"only loopback: docker's defaults", "nameserver 127.0.0.1\nsearch lan", "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"empty", "", "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"ipv6 with zone", "nameserver fe80::1%eth0\n", "nameserver fe80::1%eth0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, string(resolvConf([]byte(tt.host)))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestEtcAndUser checks, from inside containers, the /etc files the
// engine provides and who the process runs as.
func TestEtcAndUser(t *testing.T) {
	f := newFixture(t)
	users := filepath.Join(t.TempDir(), "users")
	for name, data := range map[string]string{"etc/passwd": testPasswd, "etc/group": testGroup} {
		os.MkdirAll(filepath.Join(users, "etc"), 0o755)
		if err := os.WriteFile(filepath.Join(users, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.layers = append(f.layers, users)
	withHosts := filepath.Join(t.TempDir(), "hosts")
	os.MkdirAll(filepath.Join(withHosts, "etc"), 0o755)
	if err := os.WriteFile(filepath.Join(withHosts, "etc", "hosts"), []byte("127.0.0.1 localhost image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	imageHosts := append(slices.Clone(f.layers), withHosts)
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.53\nnameserver 192.0.2.7\nsearch example.org\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	o := testOptions(f.root)
	o.ResolvConf = resolv
	e, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	checkCgroups(t, e.Cgroups())
	tests := []struct {
		name string
		spec Spec
		want string
		code int
	}{
		{"hostname file", Spec{Hostname: "box", Process: Process{Args: []string{"sh", "-c", "cat /etc/hostname; hostname"}}}, "box\nbox\n", 0},
		{"hosts is the image's, not a mount", Spec{Layers: imageHosts, Process: Process{Args: []string{"sh", "-c", "cat /etc/hosts; grep -c ' /etc/hosts ' /proc/self/mountinfo"}}}, "127.0.0.1 localhost image\n0\n", 1},
		{"an image without hosts gets docker's", Spec{Hostname: "box", Process: Process{Args: []string{"sh", "-c", "cat /etc/hosts; grep -c ' /etc/hosts ' /proc/self/mountinfo"}}},
			hosts("box", nil) + "1\n", 0},
		{"extra hosts, over the image's", Spec{Hostname: "box", Layers: imageHosts, ExtraHosts: []string{"db:192.0.2.9", "v6=[2001:db8::1]"},
			Process: Process{Args: []string{"sh", "-c", "tail -n 3 /etc/hosts"}}}, "127.0.1.1\tbox\n192.0.2.9\tdb\n2001:db8::1\tv6\n", 0},
		{"resolv.conf without loopback", Spec{Process: Process{Args: []string{"cat", "/etc/resolv.conf"}}}, "nameserver 192.0.2.7\nsearch example.org\n", 0},
		{"files are the container's to change", Spec{Process: Process{Args: []string{"sh", "-c", "echo x > /etc/hostname && cat /etc/hostname"}}}, "x\n", 0},
		{"root by default", Spec{Process: Process{Args: []string{"sh", "-c", "id; echo $HOME"}}}, "uid=0(root) gid=0(root) groups=0(root)\n/root\n", 0},
		{"user by name, with its groups", Spec{Process: Process{Args: []string{"sh", "-c", "id; echo $HOME; grep -E 'CapEff|Groups' /proc/self/status"}, User: "app"}},
			"uid=1000(app) gid=1000(app) groups=29(audio),44(video),1000(app)\n/home/app\nGroups:\t29 44 1000 \nCapEff:\t0000000000000000\n", 0},
		{"uid and group by name", Spec{Process: Process{Args: []string{"id"}, User: "1001:staff"}}, "uid=1001(svc) gid=50(staff) groups=50(staff)\n", 0},
		{"numeric ids without entries", Spec{Process: Process{Args: []string{"sh", "-c", "id -u; id -g; echo $HOME"}, User: "4242:4343"}}, "4242\n4343\n/\n", 0},
		{"a user can enter / and read the /etc files", Spec{Process: Process{Args: []string{"sh", "-c", "ls / >/dev/null && cat /etc/hostname /etc/resolv.conf >/dev/null && echo ok"}, User: "app"}}, "ok\n", 0},
		{"unknown user", Spec{Process: Process{Args: []string{"id"}, User: "nosuch"}}, "", 125},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := tt.spec
			if spec.Layers == nil {
				spec.Layers = f.layers
			}
			st, err := e.Create(spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Remove(st.ID, true) })
			sess, err := e.Start(st.ID, true)
			if tt.code == 125 {
				var se *StartError
				if !errors.As(err, &se) || se.Code != 125 || !strings.Contains(se.Msg, "unable to find user nosuch") {
					t.Fatalf("start: %v; want a start error with code 125 naming the user", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			var out strings.Builder
			code, err := sess.Wait(&out, &out)
			if err != nil || code != tt.code {
				t.Errorf("exit %d, %v; want %d (output %q)", code, err, tt.code, out.String())
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseUser reads --user against passwd and group files as an image
// may carry them: it must not panic, and every id it gives is one setuid
// and setgroups take (0 to 2^31-1).
func FuzzParseUser(f *testing.F) {
	f.Add("app", testPasswd, testGroup)
	f.Add("1001:staff", testPasswd, testGroup)
	f.Add("x:99999999999", "x:x:-1:4294967296:::\n", "g:x:-7:x\n")
	f.Add("", "root:x:0:0:root:/root:/bin/sh\n", "")
	f.Add("x", "x:x:-1:4294967296:::\n", "g:x:-7:x\n")
	f.Fuzz(func(t *testing.T, spec, passwd, group string) {
		u, err := parseUser(spec, strings.NewReader(passwd), strings.NewReader(group))
		if err != nil {
			return
		}
		for _, id := range append([]int{u.Uid, u.Gid}, u.Sgids...) {
			if id < 0 || id > maxID {
				t.Fatalf("parseUser(%q) gives id %d (user %+v)", spec, id, u)
			}
		}
	})
}
