package gen_test

import (
	"bytes"
	"errors"
	"go/ast"
	"go/format"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/spec"
)

func parse(t testing.TB, src string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("x.arbor.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

const small = "version: 1\nsupervisors:\n  top:\n    children: [{id: w, start: NewW}]\n"

func TestGeneratePackage(t *testing.T) {
	s := parse(t, small)
	if _, err := gen.Generate(s, gen.Options{}); !errors.Is(err, gen.ErrNoPackage) {
		t.Errorf("no package anywhere: err = %v, want ErrNoPackage", err)
	}
	out, err := gen.Generate(s, gen.Options{Package: "fromenv"})
	if err != nil || !bytes.Contains(out, []byte("\npackage fromenv\n")) {
		t.Errorf("Options.Package not used: %v\n%s", err, out)
	}
	if _, err := gen.Generate(s, gen.Options{Package: "not-a-name"}); err == nil {
		t.Error("an invalid Options.Package was accepted")
	}
	s = parse(t, "package: fromspec\n"+small)
	out, err = gen.Generate(s, gen.Options{Package: "fromenv"})
	if err != nil || !bytes.Contains(out, []byte("\npackage fromspec\n")) {
		t.Errorf("the spec's package does not win: %v\n%s", err, out)
	}
}

func TestGenerateHeader(t *testing.T) {
	s := parse(t, small)
	for source, want := range map[string]string{
		"x.arbor.yaml":         "// Source: x.arbor.yaml\n",
		"../specs/x.yaml":      "// Source: ../specs/x.yaml\n",
		"evil\nfunc init() {}": "// Source: \"evil\\nfunc init() {}\"\n",
	} {
		out, err := gen.Generate(s, gen.Options{Package: "p", Source: source})
		if err != nil {
			t.Fatal(err)
		}
		first, rest, _ := strings.Cut(string(out), "\n")
		if first != gen.Header {
			t.Errorf("first line = %q, want %q", first, gen.Header)
		}
		if !strings.HasPrefix(rest, want) {
			t.Errorf("Source %q: second line is not %q:\n%s", source, want, out)
		}
	}
}

func TestGenerateRejectsInvalidSpec(t *testing.T) {
	s := parse(t, small)
	s.Supervisors[0].MaxSeconds.Val = 0
	if _, err := gen.Generate(s, gen.Options{Package: "p"}); !errors.Is(err, spec.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func TestOutputPath(t *testing.T) {
	for in, want := range map[string]string{
		"x.arbor.yaml":            "x_arbor.go",
		"dir/seq.arbor.yml":       filepath.Join("dir", "seq_arbor.go"),
		"tree.yaml":               "tree_arbor.go",
		"tree.yml":                "tree_arbor.go",
		"noext":                   "noext_arbor.go",
		filepath.Join("a", "b.c"): filepath.Join("a", "b.c_arbor.go"),
	} {
		if got := gen.OutputPath(in); got != want {
			t.Errorf("OutputPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// goldenSpecs returns the valid specs of the golden cases.
func goldenSpecs(t testing.TB) map[string]*spec.Spec {
	paths, err := filepath.Glob(filepath.Join("..", "golden", "*", "spec.arbor.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden specs: %v", err)
	}
	specs := map[string]*spec.Spec{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := spec.Parse("spec.arbor.yaml", src); err == nil {
			specs[filepath.Base(filepath.Dir(p))] = s
		}
	}
	return specs
}

func TestGenerateIsGofmtd(t *testing.T) {
	for name, s := range goldenSpecs(t) {
		out, err := gen.Generate(s, gen.Options{Package: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		formatted, err := format.Source(out)
		if err != nil || !bytes.Equal(formatted, out) {
			t.Errorf("%s: output is not gofmt'd (%v)", name, err)
		}
	}
}

// declared lists the top-level identifiers a generated file must declare,
// and no others.
func declared(s *spec.Spec) map[string]bool {
	names := map[string]bool{}
	for _, sup := range s.Supervisors {
		c := spec.CamelCase(sup.Name)
		names[c+"Supervisor"], names[c+"SupervisorSpec"], names["New"+c+"Supervisor"] = true, true, true
		if sup.Cluster {
			names[spec.ClusterArgs(sup.Name)] = true
		}
		if sup.Dynamic.Val {
			continue
		}
		lower := strings.ToLower(c[:1]) + c[1:]
		names[lower+"Children"] = true
		refd := map[string]bool{}
		for _, ch := range sup.Children {
			for _, a := range ch.Args {
				if a.Kind == spec.RefArg {
					refd[a.Name], refd[ch.ID.Val] = true, true
				}
			}
		}
		for _, ch := range sup.Children {
			if !refd[ch.ID.Val] {
				names[lower+"_"+ch.ID.Val] = true
			}
		}
	}
	if s.HasDeps() {
		names["Deps"], names["NewDeps"] = true, true
	}
	if s.Cluster != nil {
		names["NewNode"] = true
	}
	for _, app := range s.Applications {
		names[spec.CamelCase(app.Name)+"Application"] = true
	}
	if len(s.Applications) > 0 {
		names["Applications"], names["Run"], names["StartApplications"], names["applicationsInStartOrder"] = true, true, true, true
	}
	return names
}

// FuzzGenerate checks that whatever a valid spec holds, the generated file
// is printable ASCII, parses as Go, declares exactly the identifiers the spec
// calls for, and has the same tokens as the file generated with every free
// text of the spec (string arguments, registry keys) replaced: such text can
// only ever be the content of a string literal, never code.
func FuzzGenerate(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "golden", "*", "spec.arbor.yaml"))
	cluster, _ := filepath.Glob(filepath.Join("..", "cluster", "golden", "*", "spec.arbor.yaml"))
	for _, p := range append(paths, cluster...) {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("version: 1\nsupervisors:\n  a:\n    children: [{id: x, start: F, args: [\"\\\"}, func init() {}//\", \"`\", \"\\u2028\"]}]\n"))
	f.Add([]byte("version: 1\nregistries: {r: {}}\nsupervisors:\n  a:\n    children: [{id: x, start: F, args: [\"*/ \\u202e\\u2066 \\u200b \\ufeff а\", \"\\0\\x7f\\n`\"], name: {registry: r, key: \"\\\")}\\nfunc init() { panic(1) }\\n//\"}}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := spec.Parse("fuzz.arbor.yaml", src)
		if err != nil {
			return
		}
		out, err := gen.Generate(s, gen.Options{Package: "p"})
		if err != nil {
			t.Fatalf("Generate of a valid spec: %v", err)
		}
		for i, c := range out {
			if c >= 0x7f || c < 0x20 && c != '\n' && c != '\t' {
				t.Fatalf("generated code has the byte %#x at offset %d:\n%s", c, i, out)
			}
		}
		file, err := parser.ParseFile(token.NewFileSet(), "out.go", out, parser.ParseComments)
		if err != nil {
			t.Fatalf("generated code does not parse: %v\n%s", err, out)
		}
		sameTokens(t, src, out)
		want := declared(s)
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					if d.Name.Name != "StartChild" && !strings.HasPrefix(d.Name.Name, "name_") && !strings.HasPrefix(d.Name.Name, "registry") {
						t.Errorf("unexpected method %s", d.Name.Name)
					}
					continue
				}
				if !want[d.Name.Name] {
					t.Errorf("unexpected func %s", d.Name.Name)
				}
				delete(want, d.Name.Name)
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if ts, ok := spec.(*ast.TypeSpec); ok {
						if !want[ts.Name.Name] {
							t.Errorf("unexpected type %s", ts.Name.Name)
						}
						delete(want, ts.Name.Name)
					} else if vs, ok := spec.(*ast.ValueSpec); ok {
						for _, n := range vs.Names {
							if !want[n.Name] {
								t.Errorf("unexpected var %s", n.Name)
							}
							delete(want, n.Name)
						}
					} else if _, ok := spec.(*ast.ImportSpec); !ok {
						t.Errorf("unexpected declaration %T", spec)
					}
				}
			}
		}
		if len(want) > 0 {
			t.Errorf("missing declarations: %v", want)
		}
	})
}

// sameTokens generates the spec src again with its free text replaced by
// placeholders, and checks that the two files have the same tokens but for
// string literals, and that those that differ hold text of the spec.
func sameTokens(t *testing.T, src, out []byte) {
	t.Helper()
	s, err := spec.Parse("fuzz.arbor.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	free := map[string]bool{}
	n := 0
	placeholder := func(v *string) {
		free[*v] = true
		*v = "placeholder" + strconv.Itoa(n)
		n++
	}
	args := func(list []spec.Arg) {
		for i := range list {
			if list[i].Kind == spec.StringArg {
				placeholder(&list[i].String)
			}
		}
	}
	for _, sup := range s.Supervisors {
		for _, c := range sup.Children {
			args(c.Args)
			if c.Name != nil && c.Name.Key.Kind == spec.StringArg {
				placeholder(&c.Name.Key.String)
			}
		}
		if sup.Template != nil {
			args(sup.Template.Args)
		}
	}
	other, err := gen.Generate(s, gen.Options{Package: "p"})
	if err != nil {
		t.Fatalf("Generate with placeholders: %v", err)
	}
	a, b := tokens(out), tokens(other)
	if len(a) != len(b) {
		t.Fatalf("%d tokens, %d with placeholders:\n%s", len(a), len(b), out)
	}
	for i := range a {
		if a[i].tok != b[i].tok {
			t.Fatalf("token %d is %v, %v with placeholders", i, a[i].tok, b[i].tok)
		}
		if a[i].lit == b[i].lit {
			continue
		}
		v, err := strconv.Unquote(a[i].lit)
		if a[i].tok != token.STRING || err != nil || !free[v] {
			t.Fatalf("token %d is %s, %s with placeholders", i, a[i].lit, b[i].lit)
		}
	}
}

type tok struct {
	tok token.Token
	lit string
}

// tokens returns the tokens of Go source, comments left out.
func tokens(src []byte) []tok {
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile("x.go", -1, len(src)), src, nil, 0)
	var out []tok
	for {
		_, t, lit := s.Scan()
		if t == token.EOF {
			return out
		}
		out = append(out, tok{t, lit})
	}
}

// In package main, main is the program's entry point: a spec that names it
// as a start function is refused when the package comes from Options too.
func TestGenerateRefusesMainInMain(t *testing.T) {
	s := parse(t, "version: 1\nsupervisors:\n  top:\n    children: [{id: w, start: main}]\n")
	if _, err := gen.Generate(s, gen.Options{Package: "other"}); err != nil {
		t.Errorf("main in package other: %v", err)
	}
	_, err := gen.Generate(s, gen.Options{Package: "main"})
	if !errors.Is(err, spec.ErrInvalid) || !strings.Contains(err.Error(), `x.arbor.yaml:4:31: start "main" is the program's entry point`) {
		t.Errorf("main in package main: err = %v", err)
	}
}
