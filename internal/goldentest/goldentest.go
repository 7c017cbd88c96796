// Package goldentest runs arbor's golden cases, for the tests of the root
// module (golden/, by generate_test.go) and of the cluster module
// (cluster/golden, whose generated code imports the cluster module and so
// compiles there). A case is a folder with a spec.arbor.yaml and what arbor
// makes of it: the generated spec_arbor.go and the drawings spec.mmd and
// spec.dot of a valid spec, or the errors.txt of an invalid one. A go-check
// case adds the user's Go code, with mistakes, and errors.txt holds what
// arbor generate says of it.
//
// The package holds no state; its functions report through the testing.TB
// they are given.
package goldentest

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/gocheck"
	"github.com/arborgo/arbor/graph"
	"github.com/arborgo/arbor/spec"
)

// The files of a golden case.
const (
	SpecFile    = "spec.arbor.yaml"
	CodeFile    = "spec_arbor.go"
	ErrorsFile  = "errors.txt"
	MermaidFile = "spec.mmd" // arbor graph --format mermaid
	DotFile     = "spec.dot" // arbor graph --format dot
)

// Cases returns the folders of dir that hold a spec.
func Cases(t testing.TB, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*", SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) == 0 {
		t.Fatalf("no golden cases in %s", dir)
	}
	var dirs []string
	for _, m := range matches {
		dirs = append(dirs, filepath.Dir(m))
	}
	return dirs
}

// Run regenerates or revalidates the case in dir and compares the result
// with its expected files, the code of package pkg for a valid spec; with
// update it rewrites them, and removes those the spec no longer gives.
func Run(t *testing.T, dir, pkg string, update bool) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	s, err := spec.Parse(SpecFile, src)
	if err != nil {
		want[ErrorsFile] = []byte(err.Error() + "\n")
	} else {
		want[CodeFile], err = gen.Generate(s, gen.Options{Package: pkg, Source: SpecFile})
		if err != nil {
			t.Fatalf("generate: %v", err)
		}
		for file, f := range map[string]graph.Format{MermaidFile: graph.Mermaid, DotFile: graph.DOT} {
			if want[file], err = graph.Draw(s, f); err != nil {
				t.Fatalf("graph: %v", err)
			}
		}
	}
	for _, file := range []string{CodeFile, ErrorsFile, MermaidFile, DotFile} {
		if got, ok := want[file]; ok {
			Check(t, filepath.Join(dir, file), got, update)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, file)); err == nil {
			if update {
				if err := os.Remove(filepath.Join(dir, file)); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Errorf("%s exists, but the spec does not give it", file)
			}
		}
	}
}

// Check compares got with the file at path, or rewrites it with update.
func Check(t *testing.T, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s is missing; got:\n%s\n(run go test -run TestGolden -update to write it)", path, got)
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s\n(run go test -run TestGolden -update to accept)", path, diff)
	}
}

// GoCheckErrors returns what arbor generate says of the go-check case in
// dir: the errors of its spec when it is invalid, else those gocheck finds
// in the Go code beside it, of which there must be some.
func GoCheckErrors(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(SpecFile, src)
	if err != nil {
		return err.Error()
	}
	if _, err := gen.Generate(s, gen.Options{Source: SpecFile}); err != nil {
		t.Fatalf("generate: %v", err)
	}
	env := append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=")
	mistakes, err := gocheck.Check(context.Background(), s, gocheck.Options{
		Dir: dir, Output: filepath.Join(dir, CodeFile), Package: s.Package.Val, Env: env,
	})
	if err != nil {
		t.Fatalf("gocheck: %v", err)
	}
	if mistakes == nil {
		t.Fatal("gocheck found no mistake")
	}
	return mistakes.Error()
}

// GoCheckAccepts runs gocheck on the valid spec at path, whose generated
// file beside it compiles: it must find no mistake.
func GoCheckAccepts(t *testing.T, path string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(path, src)
	if err != nil {
		return // an invalid case
	}
	out := gen.OutputPath(path)
	pkg := s.Package.Val
	if pkg == "" {
		if pkg, err = packageOf(out); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOWORK=off", "GOPROXY=off")
	mistakes, err := gocheck.Check(context.Background(), s, gocheck.Options{Dir: filepath.Dir(path), Output: out, Package: pkg, Env: env})
	if err != nil || mistakes != nil {
		t.Errorf("gocheck: %v\n%v", err, mistakes)
	}
}

// packageOf returns the package clause of the Go file at path.
func packageOf(path string) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.PackageClauseOnly)
	if err != nil {
		return "", err
	}
	return f.Name.Name, nil
}

// CheckFresh fails for each spec below root (a *.arbor.yaml) whose
// generated file beside it is not what arbor generate would write: go
// generate has not been run since the spec or arbor changed.
func CheckFresh(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".arbor.yaml") {
			return nil
		}
		out := gen.OutputPath(path)
		want, err := os.ReadFile(out)
		if err != nil {
			t.Errorf("%s: the generated file %s is missing: run go generate ./... (%v)", path, out, err)
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s, err := spec.Parse(path, src)
		if err != nil {
			t.Errorf("%s is invalid:\n%v", path, err)
			return nil
		}
		pkg, err := packageOf(out)
		if err != nil {
			t.Errorf("%s: %v", out, err)
			return nil
		}
		got, err := gen.Generate(s, gen.Options{Package: pkg, Source: filepath.Base(path)})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s is stale: run go generate ./... (-have +want):\n%s", out, diff)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
