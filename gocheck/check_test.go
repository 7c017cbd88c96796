package gocheck_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/arborgo/arbor/gocheck"
	"github.com/arborgo/arbor/spec"
)

// Outside a module the go command cannot load the package: Check says so,
// and reports no mistake of the spec.
func TestNotCheckedOutsideAModule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "user.go"), []byte("package p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse("x.arbor.yaml", []byte("version: 1\nsupervisors:\n  top:\n    children: [{id: w, start: NewW}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GO111MODULE=on", "GOFLAGS=", "GOWORK=off", "GOPROXY=off")
	mistakes, err := gocheck.Check(context.Background(), s, gocheck.Options{
		Dir: dir, Output: filepath.Join(dir, "x_arbor.go"), Package: "p", Env: env,
	})
	if !errors.Is(err, gocheck.ErrNotChecked) || mistakes != nil {
		t.Errorf("Check = %v, %v; want ErrNotChecked and no mistakes", mistakes, err)
	}
}
