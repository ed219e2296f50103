package engine

import (
	"encoding/csv"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"minidocker/internal/human"
)

// The parsers of docker's three ways of asking for a mount: -v
// SOURCE:TARGET[:OPTIONS], --mount KEY=VALUE,… and --tmpfs PATH[:OPTIONS].
// Their messages are docker's own (its daemon's mount parser, its client's
// --mount parser), each led by the spec it is about, and every error is
// ErrInvalid. What they do not check is the host: a bind's source is
// looked at when the container is created.

// specError is a mount spec refused: docker's wording as it is, and
// ErrInvalid for errors.Is.
type specError struct{ msg string }

func (e specError) Error() string { return e.msg }
func (e specError) Unwrap() error { return ErrInvalid }

// Volume types, as docker's --mount type= names them.
const (
	TypeBind   = "bind"
	TypeVolume = "volume"
	TypeTmpfs  = "tmpfs"
)

// The -v modes docker knows, by kind: at most one of each kind.
var (
	rwModes          = []string{"ro", "rw"}
	labelModes       = []string{"z", "Z"}
	propagationModes = []string{"rprivate", "private", "rslave", "slave", "rshared", "shared"}
	copyModes        = []string{"nocopy"}
	consistencyModes = []string{"consistent", "cached", "delegated"}
)

// validMode reports whether mode is docker's: a comma-separated list with
// at most one option of each kind. The empty mode is valid.
func validMode(mode string) bool {
	if mode == "" {
		return true
	}
	kinds := [][]string{rwModes, labelModes, propagationModes, copyModes, consistencyModes}
	seen := make([]bool, len(kinds))
	for o := range strings.SplitSeq(mode, ",") {
		k := slices.IndexFunc(kinds, func(kind []string) bool { return slices.Contains(kind, o) })
		if k < 0 || seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// ParseVolume reads docker's -v: SOURCE:TARGET[:MODE], where SOURCE is an
// absolute host path (a bind) or a volume's name, or TARGET alone (an
// anonymous volume). MODE is docker's comma-separated list: ro or rw, z or
// Z, a propagation (rprivate, private, rslave, slave, rshared, shared),
// nocopy, and a consistency (accepted, meaningless on Linux).
func ParseVolume(s string) (Volume, error) {
	invalid := func(reason string) error {
		msg := fmt.Sprintf("invalid volume specification: '%s'", human.Visible(s))
		if reason != "" {
			msg += ": " + reason
		}
		return specError{msg}
	}
	parts := strings.SplitN(s, ":", 4)
	if parts[0] == "" {
		return Volume{}, invalid("")
	}
	var v Volume
	var mode string
	switch len(parts) {
	case 1:
		v.Target = parts[0]
	case 2:
		if validMode(parts[1]) { // "/data:ro": a target and a mode, no source
			return Volume{}, invalid("")
		}
		v.Source, v.Target = parts[0], parts[1]
	case 3:
		v.Source, v.Target, mode = parts[0], parts[1], parts[2]
	default:
		return Volume{}, invalid("")
	}
	if !validMode(mode) {
		return Volume{}, invalid("invalid mode: " + human.Visible(mode))
	}
	v.Type = TypeVolume
	if path.IsAbs(v.Source) {
		v.Type = TypeBind
	} else {
		v.Name, v.Source = v.Source, ""
	}
	var bindOpt, volumeOpt bool
	for o := range strings.SplitSeq(mode, ",") {
		switch {
		case o == "ro":
			v.ReadOnly = true
		case slices.Contains(labelModes, o):
			v.Label = o
		case slices.Contains(propagationModes, o):
			v.Propagation, bindOpt = o, true
		case o == "nocopy":
			v.NoCopy, volumeOpt = true, true
		}
	}
	// As docker's daemon: a propagation is a bind's option, nocopy a
	// volume's.
	switch {
	case bindOpt && v.Type != TypeBind:
		return Volume{}, invalid(mountConfig(v.Type, "field BindOptions must not be specified"))
	case volumeOpt && v.Type != TypeVolume:
		return Volume{}, invalid(mountConfig(v.Type, "field VolumeOptions must not be specified"))
	}
	if err := v.check(); err != "" {
		return Volume{}, invalid(err)
	}
	v.clean()
	return v, nil
}

// mountConfig is docker's wording of a mount refused for its type.
func mountConfig(typ, reason string) string {
	return fmt.Sprintf("invalid mount config for type %q: %s", typ, reason)
}

// check is docker's daemon's validation of a parsed mount, and runc's
// refusal of /proc: the reason it is refused, or "".
func (v Volume) check() string {
	bad := func(reason string) string { return mountConfig(v.kind(), reason) }
	t := v.Target // docker reads a backslash as a slash here, but mounts the path as given: no such thing here
	switch {
	case v.Target == "":
		return bad("field Target must not be empty")
	case path.Clean(t) == "/":
		return bad("invalid specification: destination can't be '/'")
	case !path.IsAbs(t):
		return bad(fmt.Sprintf("invalid mount path: '%s' mount path must be absolute", human.Visible(t)))
	case insideProc(t):
		return bad(fmt.Sprintf("%q cannot be mounted because it is inside /proc", human.Visible(path.Clean(t))))
	}
	switch v.kind() {
	case TypeBind:
		switch {
		case v.Source == "":
			return bad("field Source must not be empty")
		case !path.IsAbs(v.Source):
			return bad(fmt.Sprintf("invalid mount path: '%s' mount path must be absolute", human.Visible(v.Source)))
		case v.Propagation != "" && !slices.Contains(propagationModes, v.Propagation):
			return bad("invalid propagation mode: " + human.Visible(v.Propagation))
		}
	case TypeVolume:
		if v.Name != "" && !validVolumeName(v.Name) {
			return fmt.Sprintf("%q includes invalid characters for a local volume name, only %q are allowed. "+
				"If you intended to pass a host directory, use absolute path", human.Visible(v.Name), "[a-zA-Z0-9][a-zA-Z0-9_.-]")
		}
	case TypeTmpfs:
		if v.Source != "" || v.Name != "" {
			return bad("field Source must not be specified")
		}
	default:
		return mountConfig(v.Type, "mount type unknown")
	}
	return ""
}

// procFiles are what runc lets a mount cover under /proc: the files lxcfs
// stands in for.
var procFiles = []string{"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
	"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/sys/kernel/ns_last_pid"}

// insideProc reports whether a mount at target would replace /proc or a
// part of it (runc refuses those, but for procFiles): a mount there would
// undo the masked and read-only paths.
func insideProc(target string) bool {
	t := path.Clean(target)
	return (t == "/proc" || strings.HasPrefix(t, "/proc/")) && !slices.Contains(procFiles, t)
}

// clean makes the paths of a parsed volume canonical.
func (v *Volume) clean() {
	v.Target = path.Clean(v.Target)
	if v.Source != "" {
		v.Source = filepath.Clean(v.Source)
	}
}

// validVolumeName is docker's rule for a local volume's name:
// [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at least).
func validVolumeName(n string) bool { return len(n) >= 2 && validName(n) }

// ParseMount reads docker's --mount: comma-separated KEY=VALUE fields (a
// CSV record, so a value may be quoted). The keys are docker's: type
// (bind, volume or tmpfs; volume when missing), source or src, target,
// destination or dst, readonly or ro (alone or =true|1|false|0),
// bind-propagation, volume-nocopy, tmpfs-size, tmpfs-mode, consistency.
func ParseMount(s string) (Volume, error) {
	invalid := func(format string, a ...any) error {
		return specError{fmt.Sprintf(`invalid argument "%s" for "--mount" flag: `, human.Visible(s)) + fmt.Sprintf(format, a...)}
	}
	value := strings.TrimSpace(s)
	if value == "" {
		return Volume{}, invalid("value is empty")
	}
	r := csv.NewReader(strings.NewReader(value))
	fields, err := r.Read()
	if err != nil {
		return Volume{}, invalid("%s", human.Visible(err.Error()))
	}
	v := Volume{Type: TypeVolume}
	var bindOpt, volumeOpt, tmpfsOpt bool
	var size int64
	var mode uint64
	for _, field := range fields {
		key, val, hasValue := strings.Cut(field, "=")
		if k := strings.TrimSpace(key); k != key {
			return Volume{}, invalid("invalid option '%s' in '%s': option should not have whitespace", human.Visible(k), human.Visible(field))
		}
		if hasValue {
			if tv := strings.TrimSpace(val); tv == "" {
				return Volume{}, invalid("invalid value for '%s': value is empty", human.Visible(key))
			} else if tv != val {
				return Volume{}, invalid("invalid value for '%s' in '%s': value should not have whitespace", human.Visible(key), human.Visible(field))
			}
		}
		key = strings.ToLower(key)
		if !hasValue && key != "readonly" && key != "ro" && key != "volume-nocopy" {
			return Volume{}, invalid("invalid field '%s' must be a key=value pair", human.Visible(field))
		}
		switch key {
		case "type":
			v.Type = strings.ToLower(val)
		case "source", "src":
			v.Source = val
			if !filepath.IsAbs(val) && strings.HasPrefix(val, ".") {
				if abs, err := filepath.Abs(val); err == nil {
					v.Source = abs
				}
			}
		case "target", "dst", "destination":
			v.Target = val
		case "readonly", "ro":
			if v.ReadOnly, err = parseBool(key, val, hasValue); err != nil {
				return Volume{}, invalid("%s", err)
			}
		case "consistency":
		case "bind-propagation":
			v.Propagation, bindOpt = strings.ToLower(val), true
		case "volume-nocopy":
			if v.NoCopy, err = parseBool(key, val, hasValue); err != nil {
				return Volume{}, invalid("%s", err)
			}
			volumeOpt = true
		case "tmpfs-size":
			if size, err = human.ParseRAM(val); err != nil || size < 0 {
				return Volume{}, invalid("invalid value for %s: %s", key, human.Visible(val))
			}
			tmpfsOpt = true
		case "tmpfs-mode":
			if mode, err = strconv.ParseUint(val, 8, 32); err != nil {
				return Volume{}, invalid("invalid value for %s: %s", key, human.Visible(val))
			}
			tmpfsOpt = true
		case "bind-recursive", "bind-create-src", "bind-nonrecursive", "volume-subpath", "volume-label",
			"volume-driver", "volume-opt", "image-subpath":
			return Volume{}, invalid("option '%s' is not supported by minidocker", key)
		default:
			return Volume{}, invalid("unknown option '%s' in '%s'", human.Visible(key), human.Visible(field))
		}
	}
	for _, o := range []struct {
		set  bool
		kind string
	}{{bindOpt, TypeBind}, {volumeOpt, TypeVolume}, {tmpfsOpt, TypeTmpfs}} {
		if o.set && v.Type != o.kind {
			return Volume{}, invalid("cannot mix '%s-*' options with mount type '%s'", o.kind, human.Visible(v.Type))
		}
	}
	switch v.Type {
	case TypeVolume:
		v.Name, v.Source = v.Source, ""
	case TypeTmpfs:
		v.Options = tmpfsDefaults()
		if v.ReadOnly {
			v.Options = append(v.Options, "ro")
		}
		if mode != 0 {
			v.Options = append(v.Options, fmt.Sprintf("mode=%o", mode))
		}
		if size != 0 {
			v.Options = append(v.Options, "size="+tmpfsSize(size))
		}
	}
	if reason := v.check(); reason != "" {
		return Volume{}, invalid("%s", reason)
	}
	v.clean()
	return v, nil
}

// parseBool is docker's: true when there is no value, else one of true,
// 1, false, 0.
func parseBool(key, val string, hasValue bool) (bool, error) {
	switch {
	case !hasValue || val == "1" || val == "true":
		return true, nil
	case val == "0" || val == "false":
		return false, nil
	}
	return false, fmt.Errorf(`invalid value for '%s': invalid boolean value (%q): must be one of "true", "1", "false", or "0" (default "true")`,
		key, human.Visible(val))
}

// tmpfsSize writes a size as docker hands it to tmpfs: in the largest
// unit that divides it.
func tmpfsSize(n int64) string {
	for _, u := range []struct {
		suffix string
		div    int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if n%u.div == 0 {
			return strconv.FormatInt(n/u.div, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// tmpfsDefaults are the options every tmpfs mount starts with, as docker's.
func tmpfsDefaults() []string { return []string{"noexec", "nosuid", "nodev"} }

// ParseTmpfs reads docker's --tmpfs PATH[:OPTIONS], OPTIONS being mount(8)'s
// comma-separated tmpfs options (ro, exec, size=64m, mode=1777, uid=…).
// They come after docker's defaults, noexec, nosuid and nodev, and the
// last of each kind wins.
func ParseTmpfs(s string) (Volume, error) {
	target, opts, _ := strings.Cut(s, ":")
	v := Volume{Type: TypeTmpfs, Target: target}
	list := tmpfsDefaults()
	if opts != "" {
		list = append(list, strings.Split(opts, ",")...)
	}
	merged, err := mergeTmpfsOptions(list)
	if err == nil {
		if reason := v.check(); reason != "" {
			err = fmt.Errorf("%s", reason)
		}
	}
	if err != nil {
		return Volume{}, specError{fmt.Sprintf(`invalid argument "%s" for "--tmpfs" flag: %s`, human.Visible(s), err)}
	}
	v.Options = merged
	v.ReadOnly = slices.Contains(merged, "ro")
	v.clean()
	return v, nil
}
