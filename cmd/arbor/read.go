package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/spec"
)

// maxGenerated bounds what arbor reads of a generated file: far more than
// the code of the largest spec.
const maxGenerated = 256 << 20

// readBounded reads the file at path, refusing one larger than limit before
// reading it: by its size when it is a regular file, and for a pipe or a
// device by reading at most one byte more than limit. what names the file in
// the error ("a spec").
func readBounded(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case info.IsDir():
		return nil, fmt.Errorf("%s is a directory, not %s", path, what)
	case info.Mode().IsRegular():
		if info.Size() > limit {
			return nil, fmt.Errorf("%s is %d bytes; %s is at most %d bytes", path, info.Size(), what, limit)
		}
		return io.ReadAll(io.LimitReader(f, limit+1))
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s holds more than %d bytes; %s is at most that", path, limit, what)
	}
	return data, nil
}

// readGenerated reads an existing generated file, which must be a regular
// file (through a symbolic link or not). It returns nil and no error when
// there is no file.
func readGenerated(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; arbor reads and writes only regular files", path)
	}
	return readBounded(path, maxGenerated, "a generated file")
}

// isGenerated reports whether src is a file that arbor generated: its first
// line is gen.Header.
func isGenerated(src []byte) bool {
	first, _, _ := bytes.Cut(src, []byte("\n"))
	return string(bytes.TrimSuffix(first, []byte("\r"))) == gen.Header
}

// headSize is how much of a Go file arbor reads for its package clause.
const headSize = 64 << 10

// packageFor returns the package of the generated file at out when its spec
// names none: that of the Go files of its folder that the go command would
// build with it (not tests, not files that build constraints leave out),
// else that of the file at out (whose content is have), else $GOPACKAGE; or
// "". It is an error when the Go files of the folder are of more than one
// package. Generate and check use it alike, so that check compares with the
// file generate writes.
func packageFor(out string, have []byte) (string, error) {
	dir := filepath.Dir(out)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	found := map[string][]string{} // package -> files
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(dir, name)
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || p == filepath.Clean(out) {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, name); err != nil || !ok {
			continue
		}
		if pkg := packageClause(p, head(p)); pkg != "" {
			found[pkg] = append(found[pkg], name)
		}
	}
	switch len(found) {
	case 0:
	case 1:
		for pkg := range found {
			return pkg, nil
		}
	default:
		var all []string
		for pkg, files := range found {
			all = append(all, fmt.Sprintf("%s (%s)", pkg, strings.Join(files, ", ")))
		}
		slices.Sort(all)
		return "", fmt.Errorf("the go files of %s are of several packages, %s; set package: in the spec", dir, strings.Join(all, ", "))
	}
	if name := packageClause(out, have); name != "" {
		return name, nil
	}
	return os.Getenv("GOPACKAGE"), nil
}

// head returns the first headSize bytes of the file at path, or nil.
func head(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, headSize))
	return data
}

// packageClause returns the package name of the Go source src, or "".
func packageClause(name string, src []byte) string {
	if len(src) == 0 {
		return ""
	}
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.PackageClauseOnly)
	if err != nil {
		return ""
	}
	return f.Name.Name
}

// load reads and parses one spec; on failure it prints why and returns nil.
func load(path string, stderr io.Writer) *spec.Spec {
	src, err := readBounded(path, spec.MaxSize, "a spec")
	if err != nil {
		fmt.Fprintf(stderr, "arbor: %v\n", err)
		return nil
	}
	s, err := spec.Parse(path, src)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil
	}
	return s
}
