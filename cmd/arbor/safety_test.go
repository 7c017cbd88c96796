package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The CLI never loses a file: each test is a way it once could.

func TestGenerateRefusesToOverwriteHandWrittenCode(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "x.arbor.yaml", "package: main\n"+good)
	mainGo := write(t, dir, "main.go", "package main\n\nfunc main() {}\n")
	code, _, stderr := arbor(t, "generate", "--typecheck=false", "-o", mainGo, p)
	if code != exitFail || !strings.Contains(stderr, "main.go exists and is not a file arbor generated") {
		t.Errorf("generate -o main.go = %d, %q", code, stderr)
	}
	if src, _ := os.ReadFile(mainGo); string(src) != "package main\n\nfunc main() {}\n" {
		t.Errorf("main.go changed:\n%s", src)
	}
	// An empty file is not arbor's either.
	empty := write(t, dir, "empty.go", "")
	if code, _, _ := arbor(t, "generate", "--typecheck=false", "-o", empty, p); code != exitFail {
		t.Errorf("generate over an empty file = %d", code)
	}
}

func TestGenerateNeverWritesOverASpec(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "x.arbor.yaml", "package: main\n"+good)
	other := write(t, dir, "y.arbor.yaml", "package: main\n"+strings.ReplaceAll(good, "top", "other"))
	for _, args := range [][]string{
		{"-o", p, p},
		{"-o", filepath.Join(dir, ".", "x.arbor.yaml"), p},
	} {
		code, _, stderr := arbor(t, append([]string{"generate", "--typecheck=false"}, args...)...)
		if code != exitFail || !strings.Contains(stderr, "arbor never writes over a spec") || !strings.Contains(stderr, "nothing was written") {
			t.Errorf("generate %q = %d, %q", args, code, stderr)
		}
	}
	// A spec named like the output of another: x.yaml gives x_arbor.go,
	// and a spec may be called x_arbor.go.
	odd := write(t, dir, "z_arbor.go", "package: main\n"+strings.ReplaceAll(good, "top", "zed"))
	zed := write(t, dir, "z.yaml", "package: main\n"+strings.ReplaceAll(good, "top", "z"))
	if code, _, stderr := arbor(t, "generate", "--typecheck=false", zed, odd, other); code != exitFail || !strings.Contains(stderr, "is the spec") {
		t.Errorf("generate over another spec = %d, %q", code, stderr)
	}
	for _, f := range []string{p, odd} {
		if src, _ := os.ReadFile(f); !bytes.Contains(src, []byte("version: 1")) {
			t.Errorf("%s was overwritten:\n%s", f, src)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "y_arbor.go")); err == nil {
		t.Error("generate wrote a file while refusing another")
	}
}

func TestGenerateRefusesTwoSpecsForOneFile(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "t.arbor.yaml", "package: main\n"+good)
	b := write(t, dir, "t.yaml", "package: main\n"+strings.ReplaceAll(good, "top", "other"))
	code, _, stderr := arbor(t, "generate", "--typecheck=false", a, b)
	if code != exitFail || !strings.Contains(stderr, "t.arbor.yaml and ") || !strings.Contains(stderr, "would both be generated into") {
		t.Errorf("generate of two specs for t_arbor.go = %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "t_arbor.go")); err == nil {
		t.Error("t_arbor.go was written")
	}
}

func TestReadsAreBounded(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs /dev/zero")
	}
	start := time.Now()
	code, _, stderr := arbor(t, "validate", "/dev/zero")
	if code != exitFail || !strings.Contains(stderr, "/dev/zero holds more than 4194304 bytes; a spec is at most that") {
		t.Errorf("validate /dev/zero = %d, %q", code, stderr)
	}
	// A large regular file is refused by its size.
	dir := t.TempDir()
	big := filepath.Join(dir, "big.arbor.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#\n"), 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := arbor(t, "validate", big); code != exitFail || !strings.Contains(stderr, "big.arbor.yaml is 6291456 bytes; a spec is at most 4194304 bytes") {
		t.Errorf("validate of 6 MiB = %d, %q", code, stderr)
	}
	// check reads the generated file through a symbolic link only when it
	// is a regular file.
	p := write(t, dir, "x.arbor.yaml", "package: main\n"+good)
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "x_arbor.go")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := arbor(t, "check", p); code != checkError || !strings.Contains(stderr, "x_arbor.go is not a regular file") {
		t.Errorf("check through a link to /dev/zero = %d, %q", code, stderr)
	}
	if code, _, stderr := arbor(t, "generate", "--typecheck=false", p); code != exitFail || !strings.Contains(stderr, "x_arbor.go is a symbolic link") {
		t.Errorf("generate over a link to /dev/zero = %d, %q", code, stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the bounded reads took %v", d)
	}
}

func TestGenerateNamesAMissingFolder(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "x.arbor.yaml", "package: tree\n"+good)
	out := filepath.Join(dir, "internal", "tree", "gen.go")
	code, _, stderr := arbor(t, "generate", "--typecheck=false", "-o", out, p)
	if want := "the folder " + filepath.Join(dir, "internal", "tree") + " of " + out + " does not exist"; code != exitFail || !strings.Contains(stderr, want) || strings.Contains(stderr, ".tmp") {
		t.Errorf("generate into a missing folder = %d, %q; want %q", code, stderr, want)
	}
}

// go generate sets $GOPACKAGE for the directive's package; a file generated
// into another folder is of that folder's package, as check infers it.
func TestGenerateTakesThePackageOfTheOutputFolder(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "x.arbor.yaml", good)
	tree := filepath.Join(dir, "internal", "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, tree, "tree.go", "package tree\n")
	t.Setenv("GOPACKAGE", "main")
	out := filepath.Join(tree, "gen.go")
	if code, _, stderr := arbor(t, "generate", "--typecheck=false", "-o", out, p); code != exitOK {
		t.Fatalf("generate = %d: %s", code, stderr)
	}
	if src, _ := os.ReadFile(out); !bytes.Contains(src, []byte("\npackage tree\n")) {
		t.Errorf("the generated file is not of package tree:\n%.300s", src)
	}
	t.Setenv("GOPACKAGE", "")
	if code, stdout, stderr := arbor(t, "check", "-o", out, p); code != checkFresh {
		t.Errorf("check = %d\n%s%s", code, stdout, stderr)
	}
}

// blockingFS makes the write of a temporary file wait for release, so that
// a signal can arrive while it is there.
type blockingFS struct {
	osFS
	written chan string
	release chan struct{}
}

func (b blockingFS) CreateTemp(dir, pattern string) (tempFile, error) {
	f, err := b.osFS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return blockingFile{f, b}, nil
}

type blockingFile struct {
	tempFile
	fs blockingFS
}

func (f blockingFile) Write(p []byte) (int, error) {
	n, err := f.tempFile.Write(p)
	f.fs.written <- f.Name()
	<-f.fs.release
	return n, err
}

func TestInterruptRemovesTheTemporaryFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGINT")
	}
	dir := t.TempDir()
	temps := &tempSet{}
	exited := make(chan int, 1)
	stop := temps.removeOnSignal(func(code int) { exited <- code })
	defer stop()
	fsys := blockingFS{osFS: osFS{temps: temps}, written: make(chan string, 1), release: make(chan struct{})}
	out := filepath.Join(dir, "x_arbor.go")
	done := make(chan error, 1)
	go func() { done <- writeFile(fsys, out, bytes.Repeat([]byte("x"), 1<<20)) }()
	tmp := <-fsys.written
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("the temporary file is not there: %v", err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != 130 {
			t.Errorf("exit code = %d, want 130", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupt did not exit")
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("the temporary file is still there: %v", err)
	}
	// The process would be gone; here the write resumes and fails, and
	// leaves nothing.
	temps.mu.Unlock()
	close(fsys.release)
	<-done
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Type()&fs.ModeType == 0 && strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left %s", e.Name())
		}
	}
}
