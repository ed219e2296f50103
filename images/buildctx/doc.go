// Package buildctx is the build context of COPY and ADD as docker's builder
// treats it: the files a Dockerfile may copy, less what .dockerignore
// excludes; the sources an instruction names, globs expanded; a hash of
// their content and metadata for the build cache; and the copy of them into
// a container's root filesystem by docker's rules (a directory's contents,
// dest forms, --chown, --chmod, ADD's unpacking of a local archive).
//
// A Context is either a build context (Open), whose .dockerignore applies
// and whose symlinks may not lead out of it, or a stage's root filesystem
// for COPY --from (OpenDir), where symlinks resolve as if the directory
// were / and files keep their owners. Either way nothing outside the
// directory is read, and CopyInto writes nothing outside the root it is
// given: the destination is resolved inside that root, its symlinks
// followed as the container would follow them, and every entry is made
// relative to an open directory, one component at a time, never followed.
package buildctx
