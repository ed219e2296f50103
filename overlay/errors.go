package overlay

import (
	"errors"
	"fmt"
)

// The kinds of error Unpack returns, to be checked with errors.Is.
var (
	// ErrUnsafePath is a name that escapes the layer or is not a valid
	// name, an entry beneath a symlink or a file, or a bad hardlink.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrUnsupported is a device node, an unknown entry type or an xattr
	// outside the user, security and system.posix_acl_* names.
	ErrUnsupported = errors.New("unsupported entry")
	// ErrLimit is a layer over its byte or entry limit.
	ErrLimit = errors.New("layer over limit")
	// ErrMalformed is a truncated or invalid tar.
	ErrMalformed = errors.New("malformed layer tar")
)

// kindError is an error of one of the package's kinds with its own message
// and, maybe, the error that caused it.
type kindError struct {
	kind  error
	msg   string
	cause error
}

func kindErrorf(kind error, format string, a ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, a...)}
}

func (e *kindError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *kindError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}
