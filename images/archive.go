package images

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"minidocker/internal/human"
)

// archive is a set of named files: an image archive's tar, or a directory.
type archive interface {
	// open returns the content of the file name and its size.
	open(name string) (io.ReadCloser, int64, error)
	has(name string) bool
}

// dirArchive is an unpacked archive: an OCI layout directory, say.
type dirArchive struct{ root *os.Root }

func (d dirArchive) open(name string) (io.ReadCloser, int64, error) {
	f, err := d.root.Open(name)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", human.Visible(name), notFound(err))
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: not a regular file: %w", human.Visible(name), ErrBadArchive)
	}
	return f, info.Size(), nil
}

func (d dirArchive) has(name string) bool {
	_, err := d.root.Stat(name)
	return err == nil
}

// tarArchive is an indexed tar file: each member's data is read in place,
// so layers can be read in parallel without copying the archive.
type tarArchive struct {
	f       *os.File
	members map[string]tarMember
}

type tarMember struct{ off, size int64 }

// indexTar lists the regular files of the tar f with their offsets. tar.Reader
// seeks over the data it is not asked to read, so this reads only headers.
func indexTar(f *os.File) (*tarArchive, error) {
	a := &tarArchive{f: f, members: map[string]tarMember{}}
	tr := tar.NewReader(f)
	links := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read archive %s: %w: %w", f.Name(), ErrBadArchive, err)
		}
		name := cleanMember(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, err
			}
			a.members[name] = tarMember{off: off, size: hdr.Size}
		case tar.TypeSymlink:
			// docker save links identical layers: <id>/layer.tar -> ../<other>/layer.tar
			links[name] = path.Join(path.Dir(name), hdr.Linkname)
		case tar.TypeLink:
			links[name] = cleanMember(hdr.Linkname)
		}
	}
	for name, target := range links {
		for range 8 {
			if m, ok := a.members[cleanMember(target)]; ok {
				a.members[name] = m
				break
			}
			t, ok := links[cleanMember(target)]
			if !ok {
				break
			}
			target = t
		}
	}
	return a, nil
}

func cleanMember(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

func (a *tarArchive) open(name string) (io.ReadCloser, int64, error) {
	m, ok := a.members[cleanMember(name)]
	if !ok {
		return nil, 0, fmt.Errorf("%s: %w", human.Visible(name), ErrNotFound)
	}
	return sectionFile{io.NewSectionReader(a.f, m.off, m.size)}, m.size, nil
}

// sectionFile is a member of a tarArchive: it can seek, so that a tar
// reader passes over contents it is not asked for without reading them.
type sectionFile struct{ *io.SectionReader }

func (sectionFile) Close() error { return nil }

func (a *tarArchive) has(name string) bool {
	_, ok := a.members[cleanMember(name)]
	return ok
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}

// openArchive opens an image archive: a directory, or a tar file that may be
// compressed. A compressed tar is first decompressed into the store's temp
// area. The returned cleanup closes and removes what it made.
func openArchive(p, tmpDir string) (archive, func(), error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("open archive: %w", err)
	}
	if info.IsDir() {
		r, err := os.OpenRoot(p)
		if err != nil {
			return nil, nil, fmt.Errorf("open archive: %w", err)
		}
		return dirArchive{r}, func() { r.Close() }, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, fmt.Errorf("open archive: %w", err)
	}
	return openTarFile(f, tmpDir)
}

// openTarFile indexes the tar f (taking ownership of it), decompressing it
// first, into an unlinked file in tmpDir, when it is compressed.
func openTarFile(f *os.File, tmpDir string) (archive, func(), error) {
	cleanup := func() { f.Close() }
	br := bufio.NewReader(f)
	if c := sniff(br); c != Uncompressed {
		dr, _, closeDR, err := decompress(br)
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("archive %s: %w", f.Name(), err)
		}
		tmp, err := os.CreateTemp(tmpDir, "archive-")
		if err != nil {
			closeDR()
			cleanup()
			return nil, nil, err
		}
		_, err = io.Copy(tmp, dr)
		closeDR()
		f.Close()
		os.Remove(tmp.Name())
		if err != nil {
			tmp.Close()
			return nil, nil, fmt.Errorf("decompress archive %s: %w", f.Name(), err)
		}
		f = tmp
		cleanup = func() { tmp.Close() }
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nil, err
	}
	a, err := indexTar(f)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return a, cleanup, nil
}

// spool copies r (standard input, say) into an unlinked temp file in the store.
func (s *Store) spool(r io.Reader) (*os.File, error) {
	tmp, err := os.CreateTemp(s.path("tmp"), "stdin-")
	if err != nil {
		return nil, err
	}
	os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("read archive from input: %w", err)
	}
	return tmp, nil
}

// readSmall reads a whole small member (a manifest, a config).
func readSmall(a archive, name string) ([]byte, error) {
	rc, size, err := a.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > maxJSON {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", human.Visible(name), maxJSON, ErrBadArchive)
	}
	return io.ReadAll(rc)
}
