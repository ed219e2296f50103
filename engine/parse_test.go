package engine

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseVolume(t *testing.T) {
	bind := func(src, dst string) Volume { return Volume{Type: TypeBind, Source: src, Target: dst} }
	tests := []struct {
		in      string
		want    Volume
		wantErr string // a part of docker's message
	}{
		{in: "/a:/b", want: bind("/a", "/b")},
		{in: "/a/:/b/../c:ro", want: Volume{Type: TypeBind, Source: "/a", Target: "/c", ReadOnly: true}},
		{in: "/a:/b:rw", want: bind("/a", "/b")},
		{in: "/a:/b:z", want: Volume{Type: TypeBind, Source: "/a", Target: "/b", Label: "z"}},
		{in: "/a:/b:ro,Z", want: Volume{Type: TypeBind, Source: "/a", Target: "/b", ReadOnly: true, Label: "Z"}},
		{in: "/a:/b:rslave", want: Volume{Type: TypeBind, Source: "/a", Target: "/b", Propagation: "rslave"}},
		{in: "/a:/b:shared,ro,z,cached", want: Volume{Type: TypeBind, Source: "/a", Target: "/b", Propagation: "shared", ReadOnly: true, Label: "z"}},
		{in: "data:/b", want: Volume{Type: TypeVolume, Name: "data", Target: "/b"}},
		{in: "data:/b:ro,nocopy", want: Volume{Type: TypeVolume, Name: "data", Target: "/b", ReadOnly: true, NoCopy: true}},
		{in: "/b", want: Volume{Type: TypeVolume, Target: "/b"}},
		{in: "/dev:/dev", want: bind("/dev", "/dev")},
		{in: "/a:/proc/meminfo", want: bind("/a", "/proc/meminfo")},
		{in: "/a:/b:xx", wantErr: "invalid volume specification: '/a:/b:xx': invalid mode: xx"},
		{in: "/a:/b:ro,rw", wantErr: "invalid mode: ro,rw"},
		{in: "/a:/b:z,Z", wantErr: "invalid mode: z,Z"},
		{in: "/a:/b:shared,slave", wantErr: "invalid mode: shared,slave"},
		{in: "/a:/", wantErr: `invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`},
		{in: "/a://", wantErr: "destination can't be '/'"},
		{in: "/a:/proc", wantErr: `invalid mount config for type "bind": "/proc" cannot be mounted because it is inside /proc`},
		{in: "/a:/proc/sys", wantErr: `"/proc/sys" cannot be mounted because it is inside /proc`},
		{in: "data:/proc/", wantErr: `invalid mount config for type "volume": "/proc" cannot be mounted`},
		{in: "/", wantErr: "destination can't be '/'"},
		{in: "/a:b", wantErr: "invalid mount path: 'b' mount path must be absolute"},
		{in: "b", wantErr: "invalid mount path: 'b' mount path must be absolute"},
		{in: "/b:ro", wantErr: "invalid volume specification: '/b:ro'"},
		{in: ":/b", wantErr: "invalid volume specification: ':/b'"},
		{in: "/a:/b:ro:x", wantErr: "invalid volume specification: '/a:/b:ro:x'"},
		{in: "d:/b", wantErr: `"d" includes invalid characters for a local volume name`},
		{in: "a b:/b", wantErr: "includes invalid characters"},
		{in: "data:/b:rshared", wantErr: "field BindOptions must not be specified"},
		{in: "/a:/b:nocopy", wantErr: "field VolumeOptions must not be specified"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			checkParse(t, ParseVolume, tt.in, tt.want, tt.wantErr)
		})
	}
}

// checkParse checks one result of a mount parser: want, or an ErrInvalid
// whose message holds wantErr.
func checkParse(t *testing.T, parse func(string) (Volume, error), in string, want Volume, wantErr string) {
	t.Helper()
	got, err := parse(in)
	if wantErr != "" {
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("got %+v, %v; want ErrInvalid with %q", got, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseMount(t *testing.T) {
	tests := []struct {
		in      string
		want    Volume
		wantErr string
	}{
		{in: "type=bind,source=/a,target=/b", want: Volume{Type: TypeBind, Source: "/a", Target: "/b"}},
		{in: "type=bind,src=/a,dst=/b,readonly,bind-propagation=rslave",
			want: Volume{Type: TypeBind, Source: "/a", Target: "/b", ReadOnly: true, Propagation: "rslave"}},
		{in: "type=bind,src=/a,destination=/b,ro=false", want: Volume{Type: TypeBind, Source: "/a", Target: "/b"}},
		{in: `"type=bind","src=/a,b",dst=/c`, want: Volume{Type: TypeBind, Source: "/a,b", Target: "/c"}},
		{in: "src=data,dst=/b", want: Volume{Type: TypeVolume, Name: "data", Target: "/b"}},
		{in: "type=volume,dst=/b,volume-nocopy", want: Volume{Type: TypeVolume, Target: "/b", NoCopy: true}},
		{in: "type=volume,src=data,dst=/b,volume-nocopy=true,ro=1", want: Volume{Type: TypeVolume, Name: "data", Target: "/b", NoCopy: true, ReadOnly: true}},
		{in: "type=tmpfs,dst=/t", want: Volume{Type: TypeTmpfs, Target: "/t", Options: []string{"noexec", "nosuid", "nodev"}}},
		{in: "type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770,readonly",
			want: Volume{Type: TypeTmpfs, Target: "/t", ReadOnly: true, Options: []string{"noexec", "nosuid", "nodev", "ro", "mode=1770", "size=64m"}}},
		{in: "TYPE=BIND,SRC=/a,DST=/b", want: Volume{Type: TypeBind, Source: "/a", Target: "/b"}},
		{in: "", wantErr: `invalid argument "" for "--mount" flag: value is empty`},
		{in: "type=bind,src=/a", wantErr: `invalid mount config for type "bind": field Target must not be empty`},
		{in: "type=bind,dst=/b", wantErr: `invalid mount config for type "bind": field Source must not be empty`},
		{in: "type=bind,src=/a,dst=/", wantErr: `invalid argument "type=bind,src=/a,dst=/" for "--mount" flag: invalid mount config for type "bind": invalid specification: destination can't be '/'`},
		{in: "type=tmpfs,dst=/proc", wantErr: `"/proc" cannot be mounted because it is inside /proc`},
		{in: "type=bind,src=/a,dst=/b,bind-propagation=up", wantErr: "invalid propagation mode: up"},
		{in: "type=bind,src=/a,dst=/b,volume-nocopy", wantErr: "cannot mix 'volume-*' options with mount type 'bind'"},
		{in: "type=volume,dst=/b,tmpfs-size=1m", wantErr: "cannot mix 'tmpfs-*' options with mount type 'volume'"},
		{in: "type=tmpfs,dst=/b,bind-propagation=shared", wantErr: "cannot mix 'bind-*' options with mount type 'tmpfs'"},
		{in: "type=tmpfs,src=x,dst=/b", wantErr: "field Source must not be specified"},
		{in: "type=tmpfs,dst=/b,tmpfs-mode=9", wantErr: "invalid value for tmpfs-mode: 9"},
		{in: "type=tmpfs,dst=/b,tmpfs-size=lots", wantErr: "invalid value for tmpfs-size: lots"},
		{in: "type=image,src=x,dst=/b", wantErr: `invalid mount config for type "image": mount type unknown`},
		{in: "type=bind,src=/a,dst=/b,ro=yes", wantErr: `invalid value for 'ro': invalid boolean value ("yes")`},
		{in: "type=bind,src=/a,dst=/b,x", wantErr: "invalid field 'x' must be a key=value pair"},
		{in: "type=bind,src=/a,dst=/b,x=1", wantErr: "unknown option 'x' in 'x=1'"},
		{in: "type=bind,src=/a,dst=/b,bind-recursive=disabled", wantErr: "option 'bind-recursive' is not supported"},
		{in: "type=bind,src= /a,dst=/b", wantErr: "value should not have whitespace"},
		{in: "type=bind,src=,dst=/b", wantErr: "invalid value for 'src': value is empty"},
		{in: `type=bind,"src=/a`, wantErr: `for "--mount" flag: parse error`},
		{in: "type=volume,src=/abs,dst=/b", wantErr: `"/abs" includes invalid characters`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			checkParse(t, ParseMount, tt.in, tt.want, tt.wantErr)
		})
	}
}

func TestParseTmpfs(t *testing.T) {
	defaults := []string{"noexec", "nosuid", "nodev"}
	tests := []struct {
		in      string
		want    Volume
		wantErr string
	}{
		{in: "/run", want: Volume{Type: TypeTmpfs, Target: "/run", Options: defaults}},
		{in: "/run/:size=64m,mode=1777", want: Volume{Type: TypeTmpfs, Target: "/run", Options: []string{"noexec", "nosuid", "nodev", "size=64m", "mode=1777"}}},
		{in: "/run:exec,ro,size=1m,size=2m", want: Volume{Type: TypeTmpfs, Target: "/run", ReadOnly: true, Options: []string{"nosuid", "nodev", "exec", "ro", "size=2m"}}},
		{in: "/run:rshared,uid=1000,gid=1000", want: Volume{Type: TypeTmpfs, Target: "/run", Options: []string{"noexec", "nosuid", "nodev", "rshared", "uid=1000", "gid=1000"}}},
		{in: "/", wantErr: `invalid argument "/" for "--tmpfs" flag: invalid mount config for type "tmpfs": invalid specification: destination can't be '/'`},
		{in: "/proc/x", wantErr: "cannot be mounted because it is inside /proc"},
		{in: "run", wantErr: "mount path must be absolute"},
		{in: "", wantErr: "field Target must not be empty"},
		{in: "/run:bogus", wantErr: `invalid tmpfs option "bogus"`},
		{in: "/run:color=red", wantErr: `invalid tmpfs option "color"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			checkParse(t, ParseTmpfs, tt.in, tt.want, tt.wantErr)
		})
	}
}

// TestErrorsShowControls checks that the names an error repeats from its
// input have their control characters made visible, the project's one way.
func TestErrorsShowControls(t *testing.T) {
	const evil = `x\x1b]52;c;aGk=\a\u202e` // as human.Visible writes it
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"volume", func() error { _, err := ParseVolume("/a\x1b]52;c;aGk=\a\u202e:/b:xx"); return err }, "/a" + evil[1:]},
		{"volume mode", func() error { _, err := ParseVolume("/a:/b:" + "x\x1b]52;c;aGk=\a\u202e"); return err }, evil},
		{"user", func() error { _, err := parseUser("x\x1b]52;c;aGk=\a\u202e", nil, nil); return err }, evil},
		{"group", func() error { _, err := parseUser("0:x\x1b]52;c;aGk=\a\u202e", nil, nil); return err }, evil},
		{"container", func() error { _, err := (&Engine{dir: t.TempDir()}).Get("x\x1b]52;c;aGk=\a\u202e"); return err }, evil},
		{"name", func() error { return validate(&Spec{Name: "x\x1b]52;c;aGk=\a\u202e"}) }, evil},
		{"command", func() error { _, err := lookPath("x\x1b]52;c;aGk=\a\u202e", "/nonexistent"); return err }, evil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.ContainsAny(err.Error(), "\x1b\a\u202e") {
				t.Errorf("error %q, want it to hold %q and no control character", err, tt.want)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	for _, s := range []string{"", "a", "web-1", "web_1.x", "-a", ".a", "_a", "a b", "a/b", "A9", "é", "a\x00", "x-", "x."} {
		if got, want := validName(s), re.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, want %v", s, got, want)
		}
	}
}
