package images

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"minidocker/internal/testutil"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestMain lets the test binary serve as a helper process that loads an
// archive, or unpacks a lazily stored image's layers, so a test can kill
// it mid-unpack.
func TestMain(m *testing.M) {
	if spec := os.Getenv("MINIDOCKER_TEST_LOAD"); spec != "" {
		helper(spec, func(s *Store, archive string) error { _, err := s.Load(archive); return err })
	}
	if spec := os.Getenv("MINIDOCKER_TEST_LAYERDIRS"); spec != "" {
		helper(spec, func(s *Store, ref string) error {
			img, err := s.Get(ref)
			if err == nil {
				_, err = s.LayerDirs(img)
			}
			return err
		})
	}
	os.Exit(m.Run())
}

// helper runs do on the store and argument of spec ("ROOT|ARG") and exits.
func helper(spec string, do func(*Store, string) error) {
	root, arg, _ := strings.Cut(spec, "|")
	s, err := Open(root)
	if err == nil {
		err = do(s, arg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// killMidUnpack starts the test binary as a helper with env and kills it
// once its unpack in root's temp area has written a good part of the layer
// of bigLayer.
func killMidUnpack(t *testing.T, root, env string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		matches, _ := filepath.Glob(filepath.Join(root, "tmp", "layer-*", "diff", "d0[2-9]*"))
		if len(matches) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the helper never got mid-unpack")
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	if err := cmd.Wait(); err == nil {
		testutil.Unavailable(t, "the helper finished before it was killed")
	}
}

// bigLayer is a layer of 100 directories of 200 files each.
func bigLayer(t *testing.T) NewLayer {
	var entries []entry
	for d := range 100 {
		entries = append(entries, dir(fmt.Sprintf("d%03d/", d)))
		for f := range 200 {
			entries = append(entries, file(fmt.Sprintf("d%03d/f%03d", d, f), strings.Repeat("data", 256)))
		}
	}
	return layerOf(t, "20,000 files", entries...)
}

// TestCrashMidUnpack kills a process while it unpacks a layer, then checks
// that the store shows no half layer, clears the leftovers when opened, and
// loads the same archive next time.
func TestCrashMidUnpack(t *testing.T) {
	src := newStore(t)
	if _, err := src.Create("big", []NewLayer{bigLayer(t)}, ocispec.ImageConfig{}); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "big.tar")
	if err := src.SaveFile(archive, []string{"big"}, DockerArchive); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "store")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	killMidUnpack(t, root, "MINIDOCKER_TEST_LOAD="+root+"|"+archive)
	if es, _ := os.ReadDir(s.path("layers")); len(es) != 0 {
		t.Fatalf("a killed unpack left a visible layer: %v", es)
	}
	if imgs, _ := s.List(); len(imgs) != 0 {
		t.Fatalf("a killed load left an image: %v", imgs)
	}
	if es, _ := os.ReadDir(s.path("tmp")); len(es) == 0 {
		t.Fatal("expected the killed unpack's leftovers in tmp")
	}
	s, err = Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(s.path("tmp")); len(es) != 0 {
		t.Errorf("reopening did not clear tmp: %v", es)
	}
	imgs, err := s.Load(archive)
	if err != nil || len(imgs) != 1 {
		t.Fatalf("load after the crash: %v", err)
	}
	dirs, _ := s.LayerDirs(imgs[0])
	if n := len(describe(t, dirs[0])); n != 1+100+100*200 {
		t.Errorf("layer holds %d nodes, want %d", n, 1+100+100*200)
	}
}

// TestCrashMidLazyUnpack kills a process while LayerDirs unpacks a lazily
// stored layer, then checks that the layer is still lazy, not half
// unpacked, and unpacks whole next time.
func TestCrashMidLazyUnpack(t *testing.T) {
	s := newStore(t)
	big := bigLayer(t)
	img, err := s.Derive(Derivation{Layer: big.WriteTar, Compression: Gzip, Lazy: true}, []string{"big"})
	if err != nil {
		t.Fatal(err)
	}
	d := img.DiffIDs()[0]
	killMidUnpack(t, s.Root(), "MINIDOCKER_TEST_LAYERDIRS="+s.Root()+"|big")
	if s.unpacked(d) || !s.HasLayer(d) {
		t.Fatalf("after a killed unpack: unpacked %v, HasLayer %v; want false, true", s.unpacked(d), s.HasLayer(d))
	}
	if es, _ := os.ReadDir(s.path("tmp")); len(es) == 0 {
		t.Fatal("expected the killed unpack's leftovers in tmp")
	}
	s, err = Open(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	checkTmpEmpty(t, s)
	dirs, err := s.LayerDirs(img)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(describe(t, dirs[0])); n != 1+100+100*200 {
		t.Errorf("layer holds %d nodes, want %d", n, 1+100+100*200)
	}
}
