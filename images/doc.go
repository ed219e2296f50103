// Package images owns image bytes and names: a content-addressed store laid
// out as an OCI image layout, unpacked layer directories keyed by diffID,
// import and export of docker-archive and OCI formats, the default image made
// from the host, reference counting and garbage collection.
package images
