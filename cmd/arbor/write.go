package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
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

// osFS is the real file system. With temps, it keeps the names of the
// temporary files it has created and not yet renamed or removed, for an
// interrupt to remove them.
type osFS struct {
	temps *tempSet
}

func (osFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }
func (osFS) ReadFile(name string) ([]byte, error) {
	return readBounded(name, maxGenerated, "a generated file")
}
func (osFS) Chmod(name string, mode fs.FileMode) error { return os.Chmod(name, mode) }

func (f osFS) Rename(oldpath, newpath string) error {
	err := os.Rename(oldpath, newpath)
	if err == nil {
		f.temps.done(oldpath)
	}
	return err
}

func (f osFS) Remove(name string) error {
	err := os.Remove(name)
	f.temps.done(name)
	return err
}

func (f osFS) CreateTemp(dir, pattern string) (tempFile, error) {
	t, err := os.CreateTemp(dir, pattern)
	if err == nil {
		f.temps.add(t.Name())
	}
	return t, err
}

// tempSet is the temporary files of writes under way. The zero value is
// ready to use; a nil *tempSet keeps nothing. It is safe for concurrent use.
type tempSet struct {
	mu    sync.Mutex
	names map[string]bool
}

func (t *tempSet) add(name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
}

// done forgets name, which has been renamed or removed.
func (t *tempSet) done(name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, name)
}

// removeAll removes every temporary file still there. It holds the set
// until exit, so that no write adds one after.
func (t *tempSet) removeAll() {
	t.mu.Lock()
	for name := range t.names {
		os.Remove(name)
		delete(t.names, name)
	}
}

// removeOnSignal removes the temporary files when SIGINT or SIGTERM
// arrives, then calls exit with 128 plus the signal's number, as a shell
// reports a process killed by it. It returns a function that stops
// watching for the signals.
func (t *tempSet) removeOnSignal(exit func(code int)) (stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case sig := <-signals:
			t.removeAll()
			code := 1
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			exit(code)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
		<-finished
	}
}

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
		if info.Size() == int64(len(data)) {
			if old, err := fsys.ReadFile(path); err == nil && bytes.Equal(old, data) {
				return nil
			}
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
