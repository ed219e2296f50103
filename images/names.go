package images

import (
	"fmt"
	"strings"

	"minidocker/internal/human"
)

// Image names as docker spells them: [host[:port]/]path[:tag], with the tag
// "latest" when none is given. The grammar is that of docker's reference
// package:
//
//	name      = [host [":" port] "/"] component ("/" component)*
//	host      = label ("." label)*    label: [a-zA-Z0-9], "-" inside only
//	component = [a-z0-9]+ (("." | "_" | "__" | "-"+) [a-z0-9]+)*
//	tag       = [a-zA-Z0-9_] [a-zA-Z0-9_.-]{0,127}
//
// It is matched by hand rather than with regexp: every minidocker process,
// a container's monitor and init included, would compile the expressions
// at start-up, and a run resolves a name on its critical path.

// validRepo reports whether repo matches name above.
func validRepo(repo string) bool {
	parts := strings.Split(repo, "/")
	if len(parts) > 1 && validHost(parts[0]) && allComponents(parts[1:]) {
		return true
	}
	return allComponents(parts)
}

func allComponents(parts []string) bool {
	for _, p := range parts {
		if !validComponent(p) {
			return false
		}
	}
	return true
}

// validComponent: runs of [a-z0-9] joined by ".", "_", "__" or dashes.
func validComponent(c string) bool {
	if c == "" || !lowerAlnum(c[0]) || !lowerAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if lowerAlnum(c[i]) {
			i++
			continue
		}
		j := i
		for j < len(c) && !lowerAlnum(c[j]) {
			j++
		}
		if sep := c[i:j]; sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return false
		}
		i = j
	}
	return true
}

// validHost: dot-separated labels of letters, digits and inner dashes,
// then an optional ":port".
func validHost(h string) bool {
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		port := h[i+1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return false
		}
		h = h[:i]
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !alnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

// validTag matches tag above.
func validTag(t string) bool {
	if t == "" || len(t) > 128 || !(alnum(t[0]) || t[0] == '_') {
		return false
	}
	for i := 1; i < len(t); i++ {
		if !alnum(t[i]) && !strings.ContainsRune("_.-", rune(t[i])) {
			return false
		}
	}
	return true
}

func lowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
func alnum(c byte) bool      { return lowerAlnum(c) || 'A' <= c && c <= 'Z' }

// ParseName returns name in its familiar, fully tagged form ("base" →
// "base:latest", "docker.io/library/busybox" → "busybox:latest"). An
// error wraps ErrInvalidName and shows the name quoted, made visible once
// (human.Visible), as every error of this package shows untrusted text.
func ParseName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("image name %q: empty: %w", name, ErrInvalidName)
	}
	if len(name) > 255 {
		return "", fmt.Errorf("image name \"%s\": longer than 255 bytes: %w", human.Truncate(human.Visible(name), 40), ErrInvalidName)
	}
	if strings.Contains(name, "@") {
		return "", fmt.Errorf("image name \"%s\": digest references are not names: %w", human.Visible(name), ErrInvalidName)
	}
	repo, tag := name, "latest"
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		repo, tag = name[:i], name[i+1:]
	}
	repo = strings.TrimPrefix(repo, "docker.io/")
	repo = strings.TrimPrefix(repo, "index.docker.io/")
	repo = strings.TrimPrefix(repo, "library/")
	if !validRepo(repo) {
		return "", fmt.Errorf("image name \"%s\": must be lower-case letters, digits and separators: %w", human.Visible(name), ErrInvalidName)
	}
	if !validTag(tag) {
		return "", fmt.Errorf("image tag \"%s\": must be letters, digits, '_', '.' or '-': %w", human.Visible(tag), ErrInvalidName)
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
