package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/internal/diff"
	"github.com/arborgo/arbor/spec"
)

// Exit statuses of check.
const (
	checkFresh = 0
	checkStale = 1
	checkError = 2
)

func runCheck(c *command, opts any, args []string, stdout, stderr io.Writer) int {
	output := *opts.(*string)
	if len(args) == 0 {
		return c.usageError(stderr, "no SPEC given")
	}
	specs, err := expand(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "arbor check: %v\n", err)
		return checkError
	}
	if output != "" && len(specs) != 1 {
		return c.usageError(stderr, "-o needs exactly one SPEC")
	}
	status := checkFresh
	for _, path := range specs {
		out := output
		if out == "" {
			out = gen.OutputPath(path)
		}
		status = max(status, check(path, out, stdout, stderr))
	}
	return status
}

// check compares the file at out with the code generated from the spec at
// path, printing a diff when they differ.
func check(path, out string, stdout, stderr io.Writer) int {
	s := load(path, stderr)
	if s == nil {
		return checkError
	}
	source, err := relSource(path, out)
	if err != nil {
		fmt.Fprintf(stderr, "arbor: %v\n", err)
		return checkError
	}
	have, err := readGenerated(out)
	if err != nil {
		fmt.Fprintf(stderr, "arbor: %v\n", err)
		return checkError
	}
	missing := have == nil
	pkg := s.Package.Val
	if pkg == "" {
		if pkg, err = packageFor(out, have); err != nil {
			fmt.Fprintf(stderr, "arbor: %v\n", err)
			return checkError
		}
	}
	code, err := gen.Generate(s, gen.Options{Package: pkg, Source: source})
	if err != nil {
		if errors.Is(err, spec.ErrInvalid) {
			fmt.Fprintln(stderr, err)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
		}
		return checkError
	}
	if !missing && bytes.Equal(have, code) {
		return checkFresh
	}
	oldName := "a/" + filepath.ToSlash(out)
	if missing {
		oldName = "/dev/null"
	}
	io.WriteString(stdout, diff.Unified(oldName, "b/"+filepath.ToSlash(out), have, code))
	what := "stale"
	if missing {
		what = "missing"
	}
	fmt.Fprintf(stderr, "%s is %s: run arbor generate %s (or go generate)\n", out, what, path)
	return checkStale
}

// expand turns arguments into spec paths: a file is itself; a directory is
// the specs in it; dir/... is the specs in dir and below, skipping what the
// go command skips (testdata, names starting with . or _) and other modules.
// A pattern that matches nothing gets a warning.
func expand(args []string, stderr io.Writer) ([]string, error) {
	var specs []string
	for _, arg := range args {
		dir, recursive := strings.CutSuffix(filepath.ToSlash(arg), "/...")
		if arg == "..." {
			dir, recursive = ".", true
		}
		if !recursive {
			info, err := os.Stat(arg)
			if err != nil {
				return nil, err
			}
			if !info.IsDir() {
				specs = append(specs, arg)
				continue
			}
			dir = arg
		}
		found, err := findSpecs(filepath.FromSlash(dir), recursive)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			fmt.Fprintf(stderr, "arbor check: warning: %q matched no specs\n", arg)
		}
		specs = append(specs, found...)
	}
	return specs, nil
}

// isSpec reports whether a file name is that of a spec: *.arbor.yaml or
// *.arbor.yml.
func isSpec(name string) bool {
	return strings.HasSuffix(name, ".arbor.yaml") || strings.HasSuffix(name, ".arbor.yml")
}

func findSpecs(root string, recursive bool) ([]string, error) {
	var specs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			name := d.Name()
			if !recursive || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if d.Type().IsRegular() && isSpec(d.Name()) {
			specs = append(specs, path)
		}
		return nil
	})
	slices.Sort(specs)
	return specs, err
}
