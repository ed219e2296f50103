package cli

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"minidocker/internal/app"
	"minidocker/internal/human"
)

// TestSystemDfMeter runs containers of base that write known amounts and
// checks the disk meter: the image's layer once, each upper directory
// (what the container wrote, over what the engine writes for any
// container), a full copy per container, what sharing saves; that system
// df prints the same figures, and the TUI's meter reads them too; that a
// running container's writes show in the next reading; and that removing
// the image changes nothing but its name.
func TestSystemDfMeter(t *testing.T) {
	root := commitRoot(t)
	passwd, err := strconv.ParseInt(strings.TrimSpace(mdOK(t, root, "run", "--rm", "base", "sh", "-c", "wc -c < /etc/passwd")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctrs := []struct {
		name, script string
		wrote        int64
	}{
		{"m0", "true", 0},
		{"m1", "head -c 100000 /dev/zero > /f", 100_000},
		{"m2", "head -c 250000 /dev/zero > /f; ln /f /g", 250_000}, // a second name of a file adds nothing
		{"m3", "echo x >> /etc/passwd", passwd + 2},                // copied up whole, then written
		{"m4", "mkdir -p /d/e; ln -s /nowhere/at/all /d/e/sym", 0}, // directories and symlinks are not content
	}
	for _, c := range ctrs {
		removeAtEnd(t, root, c.name)
		mdOK(t, root, "run", "--name", c.name, "base", "sh", "-c", c.script)
	}
	a := app.New(root)
	e, err := a.Engine()
	if err != nil {
		t.Fatal(err)
	}
	meters, err := a.NewMetering(e).Meters()
	if err != nil {
		t.Fatal(err)
	}
	if len(meters) != 1 || meters[0].Name != "base:latest" || meters[0].N() != len(ctrs) {
		t.Fatalf("meters %+v, want one of base:latest with %d containers", meters, len(ctrs))
	}
	m := meters[0]
	s, err := a.Images()
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Get("base")
	if err != nil {
		t.Fatal(err)
	}
	size, err := s.Size(img)
	if err != nil || size == 0 {
		t.Fatalf("size of base: %d, %v", size, err)
	}
	var uppers int64
	base := m.Containers[0].Upper // what the engine writes for any container
	for i, c := range ctrs {
		got := m.Containers[i]
		if got.Name != c.name || got.Upper != base+c.wrote {
			t.Errorf("container %s: upper %d, want %d (%d written over %d)", got.Name, got.Upper, base+c.wrote, c.wrote, base)
		}
		uppers += got.Upper
	}
	n := int64(len(ctrs))
	want := fmt.Sprint(size, size, uppers, size+uppers, n*size+uppers, (n-1)*size)
	if got := fmt.Sprint(m.Content, m.Layers, m.Uppers(), m.Disk(), m.Copies(), m.Saved()); got != want {
		t.Errorf("content layers uppers disk copies saved = %s, want %s", got, want)
	}
	checkDf(t, root, m)
	checkUIMeter(t, a, m, string(img.ID))
	checkMeterFollows(t, root, a)

	// With the image removed, its containers' holds keep its layers, and
	// the meter counts them the same.
	mdOK(t, root, "rmi", "-f", "base")
	meters, err = a.NewMetering(e).Meters()
	if err != nil {
		t.Fatal(err)
	}
	if len(meters) != 1 || !meters[0].Removed || meters[0].Name != img.ShortID() || meters[0].Layers != size || meters[0].N() != len(ctrs)+1 {
		t.Errorf("meters after rmi %+v, want base's, removed, %d containers, layers of %d", meters, len(ctrs)+1, size)
	}
}

// checkDf checks that system df prints m's figures: the containers' total
// and m's row.
func checkDf(t *testing.T, root string, m app.Meter) {
	t.Helper()
	out := mdOK(t, root, "system", "df", "-v")
	wantTotal := fmt.Sprintf("Containers %d %s (their upper directories, 0 running)", m.N(), human.Size(m.Uppers()))
	wantRow := fmt.Sprintf("base:latest %d %s %s %s %s %s (%.0f%%)", m.N(), human.Size(m.Layers), human.Size(m.Uppers()),
		human.Size(m.Disk()), human.Size(m.Copies()), human.Size(m.Saved()), 100*m.Savings())
	lines := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		lines[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, want := range []string{wantTotal, wantRow} {
		if !lines[want] {
			t.Errorf("system df lacks the line %q:\n%s", want, out)
		}
	}
	for _, c := range m.Containers {
		if want := fmt.Sprintf("%s %s base:latest stopped %s", c.ID[:12], c.Name, human.Size(c.Upper)); !lines[want] {
			t.Errorf("system df -v lacks the line %q:\n%s", want, out)
		}
	}
}

// checkUIMeter checks that the TUI's meter of the image and of one of its
// containers reads m's figures.
func checkUIMeter(t *testing.T, a *app.App, m app.Meter, imageID string) {
	t.Helper()
	src := a.UISources()
	if src.Meter == nil {
		t.Fatal("the TUI has no meter")
	}
	r, err := src.Meter.ImageMeter(imageID)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(m.N(), m.Layers, m.Uppers(), m.Disk(), m.Copies(), m.Saved(), m.Savings())
	if got := fmt.Sprint(r.Containers, r.Layers, r.Uppers, r.Disk, r.Copies, r.Saved, r.Savings); got != want {
		t.Errorf("TUI meter %s, want %s", got, want)
	}
	c := m.Containers[1]
	r, err = src.Meter.ContainerMeter(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Self != c.Name || r.SelfUpper != c.Upper || r.Disk != m.Disk() {
		t.Errorf("TUI meter of %s: self %q %d, disk %d; want %q %d, %d", c.Name, r.Self, r.SelfUpper, r.Disk, c.Name, c.Upper, m.Disk())
	}
}

// checkMeterFollows writes in a running container and checks that the
// next reading of the same metering counts it.
func checkMeterFollows(t *testing.T, root string, a *app.App) {
	t.Helper()
	removeAtEnd(t, root, "live")
	mdOK(t, root, "run", "-d", "--name", "live", "base", "sleep", "1000")
	e, err := a.Engine()
	if err != nil {
		t.Fatal(err)
	}
	mt := a.NewMetering(e)
	upper := func() int64 {
		t.Helper()
		m, err := mt.Container("live")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range m.Containers {
			if c.Name == "live" {
				if !c.Running {
					t.Error("live is not running")
				}
				return c.Upper
			}
		}
		t.Fatal("live not in its image's meter")
		return 0
	}
	before := upper()
	mdOK(t, root, "exec", "live", "sh", "-c", "head -c 40000 /dev/zero > /w")
	if after := upper(); after != before+40_000 {
		t.Errorf("upper of live %d after writing 40000 bytes, was %d", after, before)
	}
}
