package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// fileSystem is what writeFile needs of the file system. osFS is the real
// one; tests make each step fail in turn.
type fileSystem interface {
	Lstat(name string) (fs.FileInfo, error)
	ReadFile(name string) ([]byte, error)
	CreateTemp(dir, pattern string) (tempFile, error)
	Chmod(name string, mode fs.FileMode) error
	Rename(oldpath, newpath string) error
	Remove(name string) error
}

// tempFile is an open temporary file.
type tempFile interface {
	io.Writer
	Name() string
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) Lstat(name string) (fs.FileInfo, error)           { return os.Lstat(name) }
func (osFS) ReadFile(name string) ([]byte, error)             { return os.ReadFile(name) }
func (osFS) Chmod(name string, mode fs.FileMode) error        { return os.Chmod(name, mode) }
func (osFS) Rename(oldpath, newpath string) error             { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                         { return os.Remove(name) }
func (osFS) CreateTemp(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }

// writeFile replaces path with data atomically, and touches nothing else:
// it writes a temporary file in the same directory, syncs it, and renames it
// over path, so that path holds either its old content or all of data, even
// if the machine stops half-way. On any failure it removes the temporary
// file and leaves path as it was. It leaves a path that already holds data
// untouched (its modification time too), and refuses to replace anything
// but a regular file: a symbolic link is not followed, so that arbor never
// writes a file it was not asked to write.
func writeFile(fsys fileSystem, path string, data []byte) (err error) {
	mode := fs.FileMode(0o644)
	switch info, err := fsys.Lstat(path); {
	case err == nil:
		if !info.Mode().IsRegular() {
			what := "not a regular file"
			if info.Mode()&fs.ModeSymlink != 0 {
				what = "a symbolic link"
			}
			return fmt.Errorf("%s is %s; arbor writes only regular files", path, what)
		}
		mode = info.Mode().Perm()
		if old, err := fsys.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return nil
		}
	case !os.IsNotExist(err):
		return err
	}
	tmp, err := fsys.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			fsys.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := fsys.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return fsys.Rename(tmp.Name(), path)
}
