package app

import (
	"path/filepath"
	"testing"

	"minidocker/internal/testutil"
)

// TestUIImageSize checks that the UI shows an image's size as "images"
// does: its layers uncompressed, as docker does, not the blobs' size.
func TestUIImageSize(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	a := New(root)
	s, err := a.Images()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBase(); err != nil {
		t.Fatal(err)
	}
	list, err := uiImages{s}.Images()
	if err != nil || len(list) != 1 {
		t.Fatalf("images: %v, %v", list, err)
	}
	img, err := s.Get(list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Size(img)
	if err != nil {
		t.Fatal(err)
	}
	if got := list[0].Size; got != want {
		t.Errorf("UI image size %d, images shows %d (the compressed size is %d)", got, want, img.Size())
	}
	var sum int64
	for _, l := range list[0].Layers {
		sum += l.Size
	}
	if list[0].Size != sum {
		t.Errorf("UI image size %d is not the sum of its layers' sizes %d", list[0].Size, sum)
	}
}
