package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"

	"minidocker/overlay"
)

// device is a device node entry, as debootstrap or docker export leaves
// under /dev.
func device(name string, typ byte, major, minor int64) entry {
	return entry{name: name, typ: typ, mode: 0o666, major: major, minor: minor}
}

// TestImportSkipsDeviceNodes: a root filesystem tar with device nodes among
// its files (one with a name long enough for a PAX header, one after a file
// whose content ends mid-block) imports without them, counted; the rest of
// the tar is kept byte for byte, fifo included. With Strict it is refused
// and nothing is stored.
func TestImportSkipsDeviceNodes(t *testing.T) {
	long := "dev/" + strings.Repeat("long-name-", 12)
	kept := []entry{dir("dev/"), file("etc/motd", "odd length"), file("etc/after", "x"), {name: "dev/initctl", typ: tar.TypeFifo, mode: 0o600}}
	all := []entry{
		kept[0], device("dev/null", tar.TypeChar, 1, 3), kept[1], device("dev/sda", tar.TypeBlock, 8, 0),
		kept[2], device(long, tar.TypeChar, 5, 1), kept[3],
	}
	p := filepath.Join(t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(p, tarOf(t, all...), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("skipped", func(t *testing.T) {
		s := newStore(t)
		img, st, err := s.Import(p, "rootfs", ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Devices != 3 {
			t.Errorf("skipped %d device nodes, want 3", st.Devices)
		}
		if want := digest.FromBytes(tarOf(t, kept...)); img.DiffIDs()[0] != want {
			t.Errorf("diffID %s, want %s: the tar without its devices, byte for byte", img.DiffIDs()[0], want)
		}
		dirs, _ := s.LayerDirs(img)
		want := []string{". drwxr-xr-x", "dev drwxr-xr-x", "dev/initctl prw-------", "etc drwxr-xr-x", "etc/after -rw-r--r-- x", "etc/motd -rw-r--r-- odd length"}
		if diff := cmp.Diff(want, describe(t, dirs[0])); diff != "" {
			t.Errorf("imported layer (-want +got):\n%s", diff)
		}
	})
	t.Run("strict", func(t *testing.T) {
		s := newStore(t)
		before := storeState(t, s)
		_, _, err := s.Import(p, "rootfs", ImportOptions{Strict: true})
		if !errors.Is(err, overlay.ErrUnsupported) || !strings.Contains(err.Error(), `"dev/null"`) || !strings.Contains(err.Error(), p) {
			t.Errorf("strict import: %v; want an unsupported entry naming the tar and dev/null", err)
		}
		if diff := cmp.Diff(before, storeState(t, s)); diff != "" {
			t.Errorf("a refused import changed the store (-before +after):\n%s", diff)
		}
	})
}

// TestDropDevicesKeepsBytes: a tar without devices comes out as it went
// in, whatever its headers (GNU and PAX long names, a sparse file) and
// whatever follows its end.
func TestDropDevicesKeepsBytes(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: strings.Repeat("g", 150), Typeflag: tar.TypeReg, Size: 3, Format: tar.FormatGNU},
		{Name: strings.Repeat("p", 150), Typeflag: tar.TypeReg, Size: 700, Format: tar.FormatPAX, PAXRecords: map[string]string{"SCHILY.xattr.user.x": "y"}},
		{Name: "empty", Typeflag: tar.TypeReg},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(bytes.Repeat([]byte("z"), int(h.Size)))
	}
	tw.Close()
	in := append(buf.Bytes(), make([]byte, 10240-buf.Len()%10240)...) // a record's padding, as tar(1) writes
	var out bytes.Buffer
	n, err := dropDevices(&out, bytes.NewReader(in), false)
	if err != nil || n != 0 || !bytes.Equal(out.Bytes(), in) {
		t.Errorf("dropDevices: %d dropped, %v; output equal: %v", n, err, bytes.Equal(out.Bytes(), in))
	}
	if _, err := dropDevices(io.Discard, strings.NewReader(strings.Repeat("not a tar ", 100)), false); err == nil {
		t.Error("a stream that is no tar went through")
	}
}
