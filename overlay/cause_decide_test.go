package overlay

import (
	"io/fs"
	"strings"
	"testing"
)

// TestDecide checks the order of the rules on facts alone, as a live view
// fills them in (no origin read, no other names known).
func TestDecide(t *testing.T) {
	file := Facts{Path: "/f", Held: true, Mode: 0o644, Below: true, LowerMode: 0o644, LowerLayer: 0}
	dir := Facts{Path: "/d", Held: true, Mode: fs.ModeDir | 0o755, Below: true, LowerMode: fs.ModeDir | 0o755, LowerLayer: 0}
	with := func(f Facts, set func(*Facts)) Facts { set(&f); return f }
	tests := []struct {
		name string
		f    Facts
		want CauseKind
	}{
		{"written", with(file, func(f *Facts) { f.Diff = Modified }), CauseWritten},
		{"written, origin unknown but linked", with(file, func(f *Facts) { f.Diff = Modified; f.Names = []string{"/f", "/g"} }), CauseWritten},
		{"made anew", with(file, func(f *Facts) { f.Diff = Modified; f.Origin = OriginNew }), CauseReplaced},
		{"chmod", with(file, func(f *Facts) { f.Diff = MetadataOnly; f.Mode = 0o600 }), CauseMetadata},
		{"link", with(file, func(f *Facts) { f.Diff = CopiedUp; f.Names = []string{"/f", "/g"} }), CauseLinked},
		{"opened", with(file, func(f *Facts) { f.Diff = CopiedUp }), CauseOpened},
		{"symlink retargeted", with(file, func(f *Facts) {
			f.Diff, f.Mode, f.LowerMode = Modified, fs.ModeSymlink|0o777, fs.ModeSymlink|0o777
		}), CauseReplaced},
		{"file over dir", with(file, func(f *Facts) { f.Diff = Modified; f.LowerMode = fs.ModeDir | 0o755 }), CauseReplaced},
		{"created", with(file, func(f *Facts) { f.Diff, f.Below, f.LowerLayer = Added, false, -1 }), CauseCreated},
		{"whiteout", with(file, func(f *Facts) { f.Diff, f.Whiteout = Removed, true }), CauseWhiteout},
		{"moved away", with(file, func(f *Facts) { f.Diff, f.Whiteout, f.Moved = Removed, true, "/g" }), CauseMovedAway},
		{"hidden", with(file, func(f *Facts) { f.Diff, f.Held, f.Hider, f.Via = Removed, false, "/", Opaque }), CauseHidden},
		{"engine", with(file, func(f *Facts) { f.Diff, f.Below, f.Engine = Added, false, "/f" }), CauseEngine},
		{"parent, mtime moved", with(dir, func(f *Facts) { f.Diff, f.Changes = MetadataOnly, true }), CauseParent},
		{"parent, nothing left", with(dir, func(f *Facts) { f.Diff = CopiedUp }), CauseParent},
		{"dir chmod with changes", with(dir, func(f *Facts) { f.Diff, f.Changes, f.Mode = MetadataOnly, true, fs.ModeDir|0o700 }), CauseMetadata},
		{"dir touch", with(dir, func(f *Facts) { f.Diff = MetadataOnly }), CauseMetadata},
		{"opaque", with(dir, func(f *Facts) { f.Diff, f.Opaque = Opaque, true }), CauseOpaque},
		{"layer added", with(file, func(f *Facts) { f.Image, f.Below, f.Diff = true, false, Added }), CauseLayerAdded},
		{"layer replaced", with(file, func(f *Facts) { f.Image, f.Diff = true, Modified }), CauseLayerReplaced},
		{"layer dir", with(dir, func(f *Facts) { f.Image, f.Diff = true, MetadataOnly }), CauseLayerDir},
		{"layer opaque", with(dir, func(f *Facts) { f.Image, f.Opaque, f.Diff = true, true, Opaque }), CauseLayerOpaque},
		{"layer deleted", with(file, func(f *Facts) { f.Image, f.Whiteout, f.Diff = true, true, Removed }), CauseLayerDeleted},
		{"layer hidden", with(file, func(f *Facts) { f.Image, f.Held, f.Hider, f.Via = true, false, "/", Opaque }), CauseLayerHidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Decide(tt.f)
			if c.Kind != tt.want {
				t.Fatalf("got %v, want %v", c.Kind, tt.want)
			}
			if c.Summary() == "" || c.Rule().Section == "" || len(c.Explain()) < 3 {
				t.Errorf("%v: missing text: %q %+v", c.Kind, c.Summary(), c.Rule())
			}
		})
	}
}

// TestCauseTextEscapesNames checks that a name from a layer reaches the
// texts only made visible.
func TestCauseTextEscapesNames(t *testing.T) {
	evil := "/x\x1b[31m\a"
	for _, k := range []CauseKind{CauseHidden, CauseMovedAway, CauseMovedHere, CauseEngine, CauseLayerDeleted, CauseLayerHidden} {
		c := Cause{Kind: k, Facts: Facts{Path: evil, Hider: evil, Held: true, Clues: Clues{Moved: evil, Engine: evil, Names: []string{evil, "/y"}}}}
		for _, s := range append(c.Explain(), c.Summary()) {
			if strings.ContainsAny(s, "\x1b\a") {
				t.Errorf("%v: raw control character in %q", k, s)
			}
		}
	}
}
