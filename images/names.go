package images

import (
	"fmt"
	"regexp"
	"strings"
)

// Image names as docker spells them: [host[:port]/]path[:tag], with the tag
// "latest" when none is given.
var (
	nameComponent = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	hostPart      = `(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?`
	nameRE        = regexp.MustCompile(`^` + hostPart + nameComponent + `(?:/` + nameComponent + `)*$`)
	tagRE         = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
)

// ParseName returns name in its familiar, fully tagged form ("base" →
// "base:latest", "docker.io/library/busybox" → "busybox:latest").
func ParseName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("image name %q: empty: %w", name, ErrInvalidName)
	}
	if len(name) > 255 {
		return "", fmt.Errorf("image name %s…: longer than 255 bytes: %w", safe(name[:40]), ErrInvalidName)
	}
	if strings.Contains(name, "@") {
		return "", fmt.Errorf("image name %s: digest references are not names: %w", safe(name), ErrInvalidName)
	}
	repo, tag := name, "latest"
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		repo, tag = name[:i], name[i+1:]
	}
	repo = strings.TrimPrefix(repo, "docker.io/")
	repo = strings.TrimPrefix(repo, "index.docker.io/")
	repo = strings.TrimPrefix(repo, "library/")
	if !nameRE.MatchString(repo) {
		return "", fmt.Errorf("image name %s: must be lower-case letters, digits and separators: %w", safe(name), ErrInvalidName)
	}
	if !tagRE.MatchString(tag) {
		return "", fmt.Errorf("image tag %s: must be letters, digits, '_', '.' or '-': %w", safe(tag), ErrInvalidName)
	}
	return repo + ":" + tag, nil
}

// SplitName splits a parsed name into repository and tag.
func SplitName(name string) (repo, tag string) {
	i := strings.LastIndex(name, ":")
	if i <= strings.LastIndex(name, "/") {
		return name, ""
	}
	return name[:i], name[i+1:]
}

// safe quotes s when it holds anything but printable ASCII, so that a name
// from an archive cannot send escape sequences to a terminal.
func safe(s string) string {
	for _, r := range s {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == ' ' {
			return fmt.Sprintf("%+q", s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}
