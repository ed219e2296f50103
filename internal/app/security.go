package app

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"minidocker/engine"
	"minidocker/internal/human"
)

// security turns docker's --privileged, --cap-add, --cap-drop and
// --security-opt into the spec's, reading a seccomp profile's file with
// read.
func security(o Options, read func(string) ([]byte, error)) (engine.Security, error) {
	var s engine.Security
	for _, flag := range []struct {
		name  string
		names []string
		to    *[]string
	}{{"--cap-add", o.CapAdd, &s.CapAdd}, {"--cap-drop", o.CapDrop, &s.CapDrop}} {
		for _, n := range flag.names {
			if err := engine.CheckCapability(n); err != nil {
				return s, Invalid(fmt.Errorf("%s: %w", flag.name, err))
			}
			*flag.to = append(*flag.to, n)
		}
	}
	for _, opt := range o.SecurityOpt {
		if err := securityOpt(&s, opt, read); err != nil {
			return s, Invalid(fmt.Errorf(`--security-opt "%s": %w`, human.Visible(opt), err))
		}
	}
	return s, nil
}

// securityOpt applies one --security-opt: seccomp=unconfined, =builtin or
// =PROFILE.json (docker's JSON format), or no-new-privileges[=true|false];
// docker's older ":" may stand for "=".
func securityOpt(s *engine.Security, opt string, read func(string) ([]byte, error)) error {
	key, val, hasVal := strings.Cut(opt, "=")
	if !hasVal {
		key, val, hasVal = strings.Cut(opt, ":")
	}
	switch key {
	case "no-new-privileges":
		if !hasVal {
			s.NoNewPrivileges = true
			return nil
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("no-new-privileges takes true or false")
		}
		s.NoNewPrivileges = b
	case "seccomp":
		switch val {
		case "":
			return fmt.Errorf("seccomp takes unconfined, builtin or a profile's file")
		case "unconfined":
			s.Seccomp = engine.SeccompUnconfined
		case "builtin":
			s.Seccomp = engine.SeccompDefault
		default:
			b, err := read(val)
			if err != nil {
				return fmt.Errorf("seccomp profile: %w", err)
			}
			if err := engine.CheckProfile(b); err != nil {
				return err
			}
			s.Seccomp = string(b)
		}
	default:
		return fmt.Errorf("unknown option (minidocker knows seccomp= and no-new-privileges)")
	}
	return nil
}

// readProfile reads a seccomp profile's file, up to a size no profile
// comes near.
func readProfile(path string) ([]byte, error) {
	const limit = 4 << 20
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && len(b) > limit {
		err = fmt.Errorf("%s: larger than 4 MiB", path)
	}
	return b, err
}
