package images

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"minidocker/internal/human"
)

// Registries are reached through go-containerregistry: name for references,
// remote for manifests and pushes, transport for the authentication
// handshake (a 401, then basic credentials or a bearer token), with the
// credentials of ~/.docker/config.json and its credential helpers
// (authn.DefaultKeychain). Layer blobs are fetched here, on the same
// authenticated transport (fetch.go), so that each is hashed once, by the
// store, and a dropped connection resumes where it broke.

// RegistryOptions says how to reach a registry.
type RegistryOptions struct {
	// Insecure skips the check of the registry's TLS certificate and allows
	// plain HTTP to any host (--tls-verify=false). Loopback registries are
	// reached over plain HTTP without it, as docker does.
	Insecure bool
}

// ErrBadManifest is a registry's manifest that is not an image we can
// store: another media type, a schema 1 manifest, no image for the
// platform, a config that does not match its layers.
var ErrBadManifest = errors.New("unsupported manifest")

// lineError shows an error in one visible line: a registry's answers
// (an error body, a header) come into messages as they were sent.
type lineError struct{ err error }

func (e lineError) Error() string { return human.Line(e.err.Error()) }
func (e lineError) Unwrap() error { return e.err }

// userAgent is what minidocker calls itself to registries.
const userAgent = "minidocker"

// NamesRegistry reports whether ref starts with a registry host, by
// docker's rule: a first component before a "/" that holds a "." or a
// ":", or is "localhost", and is a host name (so "./x" is not). Such a
// reference cannot be a local name alone.
func NamesRegistry(ref string) bool {
	host, rest, ok := strings.Cut(ref, "/")
	if !ok || rest == "" || !validHost(host) {
		return false
	}
	return strings.ContainsAny(host, ".:") || host == "localhost"
}

// parseReference parses ref as docker does ("alpine" is
// index.docker.io/library/alpine:latest).
func parseReference(ref string, opts RegistryOptions) (name.Reference, error) {
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("reference \"%s\": %w", human.Visible(ref), ErrInvalidName)
	}
	return r, nil
}

// storedName is the name the store gives the image of ref: docker's
// familiar form ("alpine:latest" for index.docker.io/library/alpine), or
// "" for a reference by digest, which names no tag.
func storedName(ref name.Reference) (string, error) {
	tag, ok := ref.(name.Tag)
	if !ok {
		return "", nil
	}
	return ParseName(tag.Context().Name() + ":" + tag.TagStr())
}

// remoteRepo is a repository of a registry, with a transport that has done
// the authentication handshake for it.
type remoteRepo struct {
	ref    name.Reference
	tr     http.RoundTripper // a transport.Wrapper: remote adds nothing to it
	client *http.Client
}

// dial resolves the credentials for ref's registry and does the
// handshake, asking for scope (transport.PullScope or PushScope).
func dial(ctx context.Context, ref name.Reference, opts RegistryOptions, scope string) (*remoteRepo, error) {
	base := remote.DefaultTransport.(*http.Transport).Clone()
	if opts.Insecure {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	rt := transport.NewUserAgent(transport.NewRetry(base), userAgent+"/"+runtime.GOARCH)
	auth, err := authn.Resolve(ctx, authn.DefaultKeychain, ref.Context())
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", ref.Context().RegistryStr(), err)
	}
	tr, err := transport.NewWithContext(ctx, ref.Context().Registry, auth, rt, []string{ref.Context().Scope(scope)})
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", ref.Context().RegistryStr(), err)
	}
	return &remoteRepo{ref: ref, tr: tr, client: &http.Client{Transport: tr}}, nil
}

// options are remote's options for a call on r.
func (r *remoteRepo) options(ctx context.Context, more ...remote.Option) []remote.Option {
	return append([]remote.Option{remote.WithTransport(r.tr), remote.WithContext(ctx)}, more...)
}
