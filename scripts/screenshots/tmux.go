package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"
)

// pane is one tmux window on a server of our own (-L), which is the only
// one this program ever kills.
type pane struct {
	tmux, sock, target string
	w, h               int
	socket             string // the server's socket file, which tmux leaves behind
}

func (p pane) run(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, p.tmux, append([]string{"-L", p.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// start opens the session running command in a w×h window.
func (p *pane) start(ctx context.Context, command string) error {
	_, err := p.run(ctx, "new-session", "-d", "-s", p.target, "-x", fmt.Sprint(p.w), "-y", fmt.Sprint(p.h), command)
	if err != nil {
		return err
	}
	path, err := p.run(ctx, "display-message", "-p", "#{socket_path}")
	p.socket = strings.TrimSpace(path)
	return err
}

// kill ends our tmux server and whatever runs in it, and deletes its
// socket file.
func (p pane) kill() error {
	err := exec.Command(p.tmux, "-L", p.sock, "kill-server").Run()
	if err != nil && p.alive() {
		return fmt.Errorf("tmux -L %s kill-server: %w", p.sock, err)
	}
	if strings.HasSuffix(p.socket, "/"+p.sock) {
		if err := os.Remove(p.socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (p pane) alive() bool {
	return exec.Command(p.tmux, "-L", p.sock, "has-session", "-t", p.target).Run() == nil
}

// keys sends tmux key names (Enter, Tab, BTab, C-g, or plain characters).
func (p pane) keys(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if _, err := p.run(ctx, "send-keys", "-t", p.target, k); err != nil {
			return err
		}
		time.Sleep(120 * time.Millisecond) // one key a frame, as a person types
	}
	return nil
}

// line types text literally, then Enter.
func (p pane) line(ctx context.Context, text string) error {
	if _, err := p.run(ctx, "send-keys", "-t", p.target, "-l", text); err != nil {
		return err
	}
	return p.keys(ctx, "Enter")
}

// capture returns the screen; with colours, as SGR sequences (-e), and with
// trailing blanks kept (-N) so backgrounds reach the edge.
func (p pane) capture(ctx context.Context, colours bool) (string, error) {
	args := []string{"capture-pane", "-p", "-N", "-t", p.target}
	if colours {
		args = append(args, "-e")
	}
	return p.run(ctx, args...)
}

// waitFor polls the plain screen until ok accepts it.
func (p pane) waitFor(ctx context.Context, what string, timeout time.Duration, ok func(screen string) bool) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := p.capture(ctx, false)
		if err != nil {
			return "", err
		}
		if ok(s) {
			return s, nil
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("the screen never showed %s in %v:\n%s", what, timeout, s)
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitText waits for text anywhere on the screen.
func (p pane) waitText(ctx context.Context, text string) (string, error) {
	return p.waitFor(ctx, fmt.Sprintf("%q", text), 10*time.Second, func(s string) bool { return strings.Contains(s, text) })
}

// settled waits until the screen stops changing (two equal captures in a
// row, a quarter second apart) and returns it with colours.
func (p pane) settled(ctx context.Context) (string, error) {
	var last string
	for range 20 {
		time.Sleep(250 * time.Millisecond)
		s, err := p.capture(ctx, true)
		if err != nil {
			return "", err
		}
		if s == last {
			return s, nil
		}
		last = s
	}
	return last, nil
}

// box returns the text inside the bordered pane whose top border starts
// with "╭─ "+title, one line a row, or "" when there is none. The layer
// view's upper and merged trees hold the same names, so a wait for a
// change looks in one of them only.
func box(screen, title string) string {
	rows := strings.Split(screen, "\n")
	for i, row := range rows {
		r := []rune(row)
		at := runeIndex(r, []rune("╭─ "+title))
		if at < 0 {
			continue
		}
		end := at + 1
		for end < len(r) && r[end] != '╮' {
			end++
		}
		var b strings.Builder
		for _, row := range rows[i+1:] {
			r := []rune(row)
			if len(r) <= at || r[at] == '╰' {
				break
			}
			b.WriteString(string(r[at+1 : min(end, len(r))]))
			b.WriteByte('\n')
		}
		return b.String()
	}
	return ""
}

func runeIndex(s, sub []rune) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}
