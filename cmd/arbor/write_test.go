package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// faultyFS is the real file system with one step made to fail.
type faultyFS struct {
	osFS
	fail string // the step that fails
}

var errInjected = errors.New("injected failure")

func (f faultyFS) CreateTemp(dir, pattern string) (tempFile, error) {
	if f.fail == "create" {
		return nil, errInjected
	}
	t, err := f.osFS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return faultyFile{t, f.fail}, nil
}

func (f faultyFS) Chmod(name string, mode fs.FileMode) error {
	if f.fail == "chmod" {
		return errInjected
	}
	return f.osFS.Chmod(name, mode)
}

func (f faultyFS) Rename(oldpath, newpath string) error {
	if f.fail == "rename" {
		return errInjected
	}
	return f.osFS.Rename(oldpath, newpath)
}

type faultyFile struct {
	tempFile
	fail string
}

func (f faultyFile) Write(p []byte) (int, error) {
	if f.fail == "write" {
		// Half the data reaches the disk, as when the disk fills.
		n, _ := f.tempFile.Write(p[:len(p)/2])
		return n, errInjected
	}
	return f.tempFile.Write(p)
}

func (f faultyFile) Sync() error {
	if f.fail == "sync" {
		return errInjected
	}
	return f.tempFile.Sync()
}

func (f faultyFile) Close() error {
	err := f.tempFile.Close()
	if f.fail == "close" {
		return errInjected
	}
	return err
}

// listing returns the names and contents of the files in dir.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out[e.Name()] = string(b)
	}
	return out
}

func TestWriteFileKeepsTheOldFileOnFailure(t *testing.T) {
	for _, step := range []string{"create", "write", "sync", "close", "chmod", "rename"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			path := write(t, dir, "x_arbor.go", "old content\n")
			write(t, dir, "other.go", "package other\n")
			before := listing(t, dir)
			err := writeFile(faultyFS{fail: step}, path, []byte("new content, long enough to be cut in half\n"))
			if !errors.Is(err, errInjected) {
				t.Fatalf("writeFile = %v, want the injected failure", err)
			}
			if after := listing(t, dir); !mapsEqual(before, after) {
				t.Errorf("the directory changed:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
	// With no file yet, a failure leaves none, and no temporary file.
	dir := t.TempDir()
	if err := writeFile(faultyFS{fail: "write"}, filepath.Join(dir, "x_arbor.go"), []byte("data")); err == nil {
		t.Fatal("writeFile succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed write left %v", entries)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

func TestWriteFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	target := write(t, dir, "elsewhere.go", "package elsewhere\n")
	link := filepath.Join(dir, "x_arbor.go")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	err := writeFile(osFS{}, link, []byte("new"))
	if err == nil || !strings.Contains(err.Error(), "is a symbolic link; arbor writes only regular files") {
		t.Errorf("writeFile through a symlink = %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "package elsewhere\n" {
		t.Errorf("the link's target changed: %q", b)
	}
	if err := writeFile(osFS{}, dir, []byte("new")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("writeFile over a directory = %v", err)
	}
}

func TestWriteFileKeepsTheMode(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "x_arbor.go", "old")
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(osFS{}, path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, %v; want 0600", info.Mode(), err)
	}
}

// TestGenerateWritesOnlyItsFile runs generate in a directory of other files,
// specs among them, and checks that only the one generated file changed.
func TestGenerateWritesOnlyItsFile(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "tree.arbor.yaml", "package: tree\n"+good)
	write(t, dir, "other.arbor.yaml", "package: tree\n"+strings.ReplaceAll(good, "top", "other"))
	write(t, dir, "tree.go", "package tree\n")
	write(t, dir, "tree_arbor.go", "// an old generated file\n")
	before := listing(t, dir)
	if code, _, stderr := arbor(t, "generate", p); code != exitOK {
		t.Fatal(stderr)
	}
	after := listing(t, dir)
	var changed []string
	for name, content := range after {
		if before[name] != content {
			changed = append(changed, name)
		}
	}
	if len(after) != len(before) || !slices.Equal(changed, []string{"tree_arbor.go"}) {
		t.Errorf("generate changed %v; the directory went from %d to %d files", changed, len(before), len(after))
	}
}
