package gocheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// runtimePath is the import path of the runtime that generated code calls.
const runtimePath = "github.com/arborgo/arbor/runtime"

// Options say where the generated file goes.
type Options struct {
	// Dir is the directory of the generated file: its package is checked.
	Dir string
	// Output is the path of the generated file. The check leaves it out of
	// the package, as it is about to be replaced.
	Output string
	// Package is the name of the generated file's package.
	Package string
	// Env is the environment of the go command, and where GOFLAGS' build
	// tags are read; the process's environment when nil.
	Env []string
}

// ErrNotChecked is matched by the error Check returns when it could not
// load the package: errors.Is(err, ErrNotChecked).
var ErrNotChecked = errors.New("the start functions were not checked against the go code")

// notChecked is an error that says why the package could not be loaded.
type notChecked struct{ why string }

func (e *notChecked) Error() string        { return ErrNotChecked.Error() + ": " + e.why }
func (e *notChecked) Is(target error) bool { return target == ErrNotChecked }

func cannot(format string, args ...any) error {
	return &notChecked{fmt.Sprintf(format, args...)}
}

// loaded is the package of the generated file, without it.
type loaded struct {
	fset  *token.FileSet
	pkg   *types.Package
	files []*ast.File // the package's files, for declarations
	imp   types.Importer
	info  *types.Info
	// listed holds, for each import path the check asked the go command
	// about, the error it gave, or "" for a package that loaded.
	listed map[string]string
	// dir is the directory of the package, absolute.
	dir string
}

// load reads the package's Go files, asks the go command for the export
// data of every package they or the spec import, and type-checks them.
func load(ctx context.Context, paths []string, opts Options) (*loaded, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, cannot("%v", err)
	}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	if !inModule(dir, env) {
		return nil, cannot("%s is in no module (there is no go.mod in it or above it)", opts.Dir)
	}
	l := &loaded{fset: token.NewFileSet(), listed: map[string]string{}, dir: dir}
	names, err := goFiles(dir, opts.Output, env)
	if err != nil {
		return nil, cannot("%v", err)
	}
	imports := map[string]bool{"context": true, "time": true, runtimePath: true}
	for _, p := range paths {
		imports[p] = true
	}
	for _, name := range names {
		f, err := parser.ParseFile(l.fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			// The compiler will say it better; a file that does not parse
			// declares nothing the check can see.
			return nil, cannot("%v", err)
		}
		if f.Name.Name != opts.Package {
			continue // reported by the caller, which knows the spec
		}
		l.files = append(l.files, f)
		for _, is := range f.Imports {
			if p := strings.Trim(is.Path.Value, "\"`"); p != "C" && p != "unsafe" {
				imports[p] = true
			}
		}
	}
	exports, err := l.list(ctx, opts, env, dir, imports)
	if err != nil {
		return nil, err
	}
	l.imp = importer.ForCompiler(l.fset, "gc", func(path string) (io.ReadCloser, error) {
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	conf := types.Config{
		Importer:                 l.imp,
		Error:                    func(error) {}, // the compiler reports the package's own mistakes
		FakeImportC:              true,
		DisableUnusedImportCheck: true,
	}
	l.info = &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
	}
	l.pkg, _ = conf.Check(opts.Package, l.fset, l.files, l.info)
	if l.pkg == nil {
		l.pkg = types.NewPackage(opts.Package, opts.Package)
	}
	return l, nil
}

// inModule reports whether dir is inside a module, or the go command is
// set to GOPATH mode, where the go command can load its package.
func inModule(dir string, env []string) bool {
	for _, kv := range env {
		if kv == "GO111MODULE=off" {
			return true
		}
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}

// goFiles returns the names of the Go files of dir that the go command
// would build, but for the output file and tests.
func goFiles(dir, output string, env []string) ([]string, error) {
	bctx := build.Default
	bctx.BuildTags = buildTags(env)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	outAbs, _ := filepath.Abs(output)
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || !e.Type().IsRegular() ||
			filepath.Join(dir, name) == outAbs {
			continue
		}
		if ok, err := bctx.MatchFile(dir, name); err != nil || !ok {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

// buildTags returns the build tags of a -tags flag in GOFLAGS.
func buildTags(env []string) []string {
	var flags string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			flags = v
		}
	}
	for _, f := range strings.Fields(flags) {
		if v, ok := strings.CutPrefix(f, "-tags="); ok {
			return strings.Split(v, ",")
		}
		if v, ok := strings.CutPrefix(f, "--tags="); ok {
			return strings.Split(v, ",")
		}
	}
	return nil
}

// listed is what go list says of a package.
type listed struct {
	ImportPath string
	Export     string
	Error      *struct{ Err string }
}

// list runs go list -export on the import paths, from dir, and returns the
// export data file of each that loaded; it records the error of each that
// did not.
func (l *loaded) list(ctx context.Context, opts Options, env []string, dir string, imports map[string]bool) (map[string]string, error) {
	const goCmd = "go" // from the PATH
	paths := make([]string, 0, len(imports))
	for p := range imports {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	args := append([]string{"list", "-e", "-export", "-json=ImportPath,Export,Error", "--"}, paths...)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	exports := map[string]string{}
	dec := json.NewDecoder(&stdout)
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, cannot("reading go list: %v", err)
		}
		l.listed[p.ImportPath] = ""
		switch {
		case p.Error != nil:
			l.listed[p.ImportPath] = oneLine(p.Error.Err)
		case p.Export == "":
			l.listed[p.ImportPath] = "the go command gave no export data for it"
		default:
			exports[p.ImportPath] = p.Export
		}
	}
	if runErr != nil && len(exports) == 0 {
		msg := firstLine(stderr.String())
		if msg == "" {
			msg = runErr.Error()
		}
		return nil, cannot("go list: %s", msg)
	}
	return exports, nil
}

// oneLine joins the lines of a go command's message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// importPkg returns the package at path, or why it cannot be loaded.
func (l *loaded) importPkg(path string) (*types.Package, string) {
	if why := l.listed[path]; why != "" {
		return nil, why
	}
	if _, ok := l.listed[path]; !ok {
		return nil, "the go command did not list it"
	}
	p, err := l.imp.Import(path)
	if err != nil {
		return nil, err.Error()
	}
	return p, ""
}
