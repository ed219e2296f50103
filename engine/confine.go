package engine

import (
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// The Confinement.Seccomp values.
const (
	confinedDefault    = "default"
	confinedUnconfined = "unconfined"
	confinedCustom     = "custom"
)

// checkSecurity is validate's part for spec.Security: capability names,
// and a profile that parses.
func checkSecurity(sec Security) error {
	for _, n := range append(append([]string{}, sec.CapAdd...), sec.CapDrop...) {
		if err := CheckCapability(n); err != nil {
			return err
		}
	}
	switch sec.Seccomp {
	case SeccompDefault, SeccompUnconfined:
		return nil
	}
	if _, _, err := parseProfile([]byte(sec.Seccomp)); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// CheckProfile checks a seccomp profile in docker's JSON format; the
// error wraps ErrProfile.
func CheckProfile(b []byte) error {
	_, _, err := parseProfile(b)
	return err
}

// confine works out a container's Confinement from its spec, on a kernel
// whose highest capability is last, for an engine that has the
// capabilities have. Privileged is docker's: every capability and no
// filter, whatever else was asked.
func confine(spec Spec, last uintptr, have capSet) Confinement {
	sec := spec.Security
	c := Confinement{
		Capabilities:    (effectiveCaps(spec.Privileged, sec.CapAdd, sec.CapDrop, last) & have).names(),
		NoNewPrivileges: sec.NoNewPrivileges,
	}
	switch {
	case spec.Privileged || sec.Seccomp == SeccompUnconfined:
		c.Seccomp = confinedUnconfined
	case sec.Seccomp == SeccompDefault:
		c.Seccomp = confinedDefault
	default:
		c.Seccomp = confinedCustom
		if _, unconfined, _ := parseProfile([]byte(sec.Seccomp)); unconfined {
			c.Seccomp = confinedUnconfined
		}
	}
	return c
}

// processSecurity is what execProcess applies just before execve: the
// capabilities, no_new_privs and the seccomp filter's BPF program.
type processSecurity struct {
	Caps       capSet `json:"caps"`
	NoNewPrivs bool   `json:"no_new_privs,omitempty"`
	FilterLen  int    `json:"filter_len,omitempty"`
	Filter     []byte `json:"-"`
}

// send writes s to the init or an exec's helper: JSON, then the filter's
// bytes as they are (as base64 in the JSON, some 8 kB of it, they would
// cost the init tens of microseconds to decode, on the start's critical
// path).
func (s processSecurity) send(w io.Writer) error {
	s.FilterLen = len(s.Filter)
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = w.Write(append(append(b, '\n'), s.Filter...))
	return err
}

// receiveSecurity reads what send wrote, the JSON from dec and the filter
// from what follows it, rest: dec's buffer, then r.
func receiveSecurity(dec *json.Decoder, r io.Reader) (s processSecurity, rest io.Reader, err error) {
	if err := dec.Decode(&s); err != nil {
		return s, nil, fmt.Errorf("receive security: %w", err)
	}
	rest = io.MultiReader(dec.Buffered(), r)
	if s.FilterLen < 0 || s.FilterLen%8 != 0 || s.FilterLen/8 > bpfMaxInsns {
		return s, nil, fmt.Errorf("receive security: filter of %d bytes", s.FilterLen)
	}
	// The newline that ends the JSON, then the program.
	s.Filter = make([]byte, s.FilterLen+1)
	if _, err := io.ReadFull(rest, s.Filter); err != nil {
		return s, nil, fmt.Errorf("receive security: %w", err)
	}
	s.Filter = s.Filter[1:]
	return s, rest, nil
}

// securityOf is the processSecurity of st's processes, the filter from
// the store's cache or compiled now.
func securityOf(st State) (processSecurity, error) {
	c := st.Confinement
	if c.Seccomp == "" { // a state from before confinement was recorded
		c = confine(st.Spec, lastCap(), permittedCaps())
	}
	ps := processSecurity{Caps: capsFromNames(c.Capabilities), NoNewPrivs: c.NoNewPrivileges}
	if c.Seccomp == confinedUnconfined {
		return ps, nil
	}
	prog, err := seccompFilter(seccompCacheDir(st.Dir), st.Spec.Security.Seccomp, ps.Caps)
	if err != nil {
		return ps, fmt.Errorf("seccomp filter: %w", err)
	}
	ps.Filter = prog
	return ps, nil
}

// confineSelf applies sec to the calling thread and makes it u, in the
// order runc's init has. Without no_new_privs, seccomp(2) asks for
// CAP_SYS_ADMIN, so the filter goes on first, while the thread still has
// every capability; with it, as late as possible, so that the fewest of
// our own calls meet the filter. The bounding set is cut before the ids
// change (PR_CAPBSET_DROP needs CAP_SETPCAP) and the other sets after
// (setresuid(2) needs CAP_SETUID, which the container may not keep). A
// change to a non-root uid has already emptied the effective and
// permitted sets (capabilities(7)); capset(2) then only clears the
// inheritable one.
func confineSelf(sec processSecurity, u execUser) error {
	if !sec.NoNewPrivs {
		if err := loadFilter(sec.Filter); err != nil {
			return err
		}
	}
	if err := limitBounding(sec.Caps, lastCap()); err != nil {
		return err
	}
	if err := become(u); err != nil {
		return err
	}
	keep := sec.Caps & permittedCaps()
	if u.Uid != 0 {
		keep = 0
	}
	if err := setCapabilities(keep); err != nil {
		return err
	}
	if sec.NoNewPrivs {
		if err := prctl(unix.PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS"); err != nil {
			return err
		}
		return loadFilter(sec.Filter)
	}
	return nil
}
