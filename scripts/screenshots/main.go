// Command screenshots makes the README's pictures from the real binary: it
// builds minidocker, makes a store in a temporary directory, runs a
// container from the default image, drives the terminal UI in tmux — opens
// the container, types into its shell, waits for the copy-up, the whiteout
// and the opaque directory to show in the layer view — and renders each
// captured screen, colours kept, to a PNG with Go Mono.
//
//	sudo make screenshots                  # from the repository root
//	go run . -repo ../.. -out ../../assets # what it runs, from here
//	go run . -render screen.ansi -o x.png  # render a saved capture-pane -e
//
// It needs root (a real container) and tmux. Everything it starts — the
// container, the tmux server on its own socket, the store — is removed
// when it ends, also on ctrl+c.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The pane size the pictures are taken at.
const width, height = 120, 36

// flashTime is a little more than ui/layers.FlashTime, how long the layer
// view highlights an entry that just changed.
const flashTime = time.Second

func main() {
	repo := flag.String("repo", "../..", "the minidocker repository to build")
	out := flag.String("out", "../../assets", "directory for the PNGs")
	keep := flag.Bool("keep", false, "keep the temporary store and the raw captures (.ansi) for a look")
	render := flag.String("render", "", "only render this capture (tmux capture-pane -p -e output) to -o")
	png := flag.String("o", "screen.png", "the PNG -render writes")
	size := flag.Float64("size", 15, "font size in pixels")
	flag.Parse()

	r, err := newRenderer(*size)
	if err == nil && *render != "" {
		var b []byte
		if b, err = os.ReadFile(*render); err == nil {
			err = r.writePNG(*png, string(b), width, height)
		}
	} else if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = shoot(ctx, r, *repo, *out, *keep)
		stop()
	}
	if len(r.missing) > 0 {
		fmt.Fprintf(os.Stderr, "screenshots: no glyph for %q; drawn as boxes\n", keys(r.missing))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func keys(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}

// shoot makes the pictures; its deferred clean-ups run whatever fails.
func shoot(ctx context.Context, r *renderer, repo, out string, keep bool) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("run as root: the pictures show a real container")
	}
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		return fmt.Errorf("tmux is needed (apt-get install tmux): %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("/tmp", "shots-")
	if err != nil {
		return err
	}
	bin, root := filepath.Join(dir, "minidocker"), filepath.Join(dir, "store")
	defer func() {
		if keep {
			fmt.Printf("kept %s\n", dir)
			return
		}
		err = errors.Join(err, removeStore(dir))
	}()

	step("build " + bin)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = repo
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	md := func(args ...string) error {
		b, err := exec.CommandContext(ctx, bin, append([]string{"--root", root}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("minidocker %s: %w\n%s", strings.Join(args, " "), err, b)
		}
		return nil
	}
	step("store " + root + ": image create-base, run demo")
	if err := md("image", "create-base"); err != nil {
		return err
	}
	if err := md("run", "-d", "-i", "-t", "--name", "demo", "base", "/bin/sh"); err != nil {
		return err
	}
	defer func() {
		// Not ctx: the container goes also after ctrl+c.
		b, rmErr := exec.Command(bin, "--root", root, "rm", "-f", "demo").CombinedOutput()
		if rmErr != nil {
			err = errors.Join(err, fmt.Errorf("minidocker rm -f demo: %w: %s", rmErr, b))
		}
	}()

	p := pane{tmux: tmuxPath, sock: fmt.Sprintf("minidocker-shots-%d", os.Getpid()), target: "ui", w: width, h: height}
	if err := p.start(ctx, fmt.Sprintf("%s --root %s ui", bin, root)); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.kill()) }()

	shots, err := drive(ctx, p)
	if keep {
		for _, s := range shots {
			_ = os.WriteFile(filepath.Join(dir, s.name+".ansi"), []byte(s.screen), 0o644)
		}
	}
	if err != nil {
		return err // the pictures in out stay as they were
	}
	for _, s := range shots {
		path := filepath.Join(out, s.name+".png")
		if err := r.writePNG(path, s.screen, width, height); err != nil {
			return err
		}
		if fi, err := os.Stat(path); err == nil {
			step(fmt.Sprintf("wrote %s (%d KB)", path, fi.Size()/1024))
		}
	}
	return nil
}

type shot struct{ name, screen string }

// drive walks the UI as a teacher would and returns the screens to keep.
func drive(ctx context.Context, p pane) ([]shot, error) {
	var shots []shot
	take := func(name string) error {
		time.Sleep(flashTime) // a calm picture: no row still highlighted as just changed
		s, err := p.settled(ctx)
		shots = append(shots, shot{name, s})
		return err
	}
	upperHas := func(what, text string) error {
		_, err := p.waitFor(ctx, what, 10*time.Second, func(s string) bool {
			return strings.Contains(box(s, "upper"), text)
		})
		return err
	}

	step("home screen")
	if _, err := p.waitText(ctx, "● demo running"); err != nil {
		return shots, err
	}
	if err := p.keys(ctx, "2"); err != nil { // the Containers panel
		return shots, err
	}
	if err := take("home"); err != nil {
		return shots, err
	}

	step("open the container, its Shell tab")
	if err := p.keys(ctx, "Enter"); err != nil {
		return shots, err
	}
	if _, err := p.waitText(ctx, "╭─ merged"); err != nil {
		return shots, err
	}
	if err := p.keys(ctx, "2"); err != nil {
		return shots, err
	}
	if _, err := p.waitText(ctx, "ctrl+g to leave"); err != nil {
		return shots, err
	}
	// The shell printed its prompt before the pane attached: ask again.
	if err := p.keys(ctx, "Enter"); err != nil {
		return shots, err
	}
	if _, err := p.waitFor(ctx, "a prompt", 5*time.Second, func(s string) bool {
		return strings.Contains(box(s, "shell"), "#")
	}); err != nil {
		return shots, err
	}

	step("copy-up: echo hello > /etc/hosts")
	if err := p.line(ctx, "echo hello > /etc/hosts"); err != nil {
		return shots, err
	}
	if upperHas("a copied-up /etc/hosts", " hosts ") != nil {
		// When the engine bind-mounts its own /etc/hosts over the merged
		// view, the write never reaches the upper layer: clear the shell's
		// screen and copy up a file of the image instead.
		step("no copy-up of /etc/hosts (bind-mounted?): echo hello >> /etc/passwd instead")
		if err := p.line(ctx, `printf '\033[H\033[2J'`); err != nil {
			return shots, err
		}
		if err := p.line(ctx, "echo hello >> /etc/passwd"); err != nil {
			return shots, err
		}
		if err := upperHas("a copied-up /etc/passwd", " passwd "); err != nil {
			return shots, err
		}
	}
	steps := []struct{ cmd, what, text string }{
		{"echo hi > /root/hello.txt", "an added file", "hello.txt"},
		{"rm /bin/sh", "the whiteout of /usr/bin/sh", "sh ⊘ whiteout"},
		// An opaque directory: a whiteout, then a directory made again.
		{"rm -r /etc/alternatives", "the whiteout of /etc/alternatives", "alternatives ⊘ whiteout"},
		{"mkdir /etc/alternatives", "an opaque /etc/alternatives", "opaque"},
	}
	for i, c := range steps {
		if i == 2 {
			// The live view keeps the whiteouts rm -r made inside the
			// directory after mkdir made it opaque (a bug of ui/layers'
			// live updates); the shell picture stops before that.
			if err := take("shell"); err != nil {
				return shots, err
			}
		}
		step(c.cmd)
		if err := p.line(ctx, c.cmd); err != nil {
			return shots, err
		}
		if err := upperHas(c.what, c.text); err != nil {
			return shots, err
		}
	}

	// Open the container again, so the layer view is read from the upper
	// directory as it is now, and point at the whiteout.
	step("layer view, read afresh; cursor on the whiteout")
	if err := p.keys(ctx, "C-g", "Escape"); err != nil {
		return shots, err
	}
	if _, err := p.waitText(ctx, "[2] Containers"); err != nil {
		return shots, err
	}
	if err := p.keys(ctx, "Enter"); err != nil {
		return shots, err
	}
	if _, err := p.waitText(ctx, "╭─ lower"); err != nil {
		return shots, err
	}
	if err := focusWhiteout(ctx, p); err != nil {
		return shots, err
	}
	if err := take("layer-view"); err != nil {
		return shots, err
	}

	step("quit")
	if err := p.keys(ctx, "q"); err != nil {
		return shots, err
	}
	for deadline := time.Now().Add(5 * time.Second); p.alive() && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	return shots, nil
}

// focusWhiteout moves the focus pane by pane until the bottom row of one
// is the whiteout of /usr/bin/sh (the upper tree's last row, sorted by
// name), so the details line explains it. Other panes go back to their top.
func focusWhiteout(ctx context.Context, p pane) error {
	for range 3 {
		if err := p.keys(ctx, "G"); err != nil {
			return err
		}
		s, err := p.settled(ctx)
		if err != nil {
			return err
		}
		if strings.Contains(s, "whiteout /usr/bin/sh") {
			return nil
		}
		if err := p.keys(ctx, "g", "Tab"); err != nil {
			return err
		}
	}
	s, _ := p.capture(ctx, false)
	return fmt.Errorf("no pane's last row is the whiteout of /usr/bin/sh:\n%s", s)
}

// removeStore deletes the temporary directory, unless something is still
// mounted under it: then deleting would reach into the mount.
func removeStore(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			return fmt.Errorf("%s is still mounted; left %s in place", f[4], dir)
		}
	}
	return os.RemoveAll(dir)
}

func step(s string) { fmt.Println("·", s) }
