package gen_test

import (
	"bytes"
	"errors"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
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
	}
	if len(s.Registries) > 0 {
		names["Registries"], names["NewRegistries"] = true, true
	}
	for _, app := range s.Applications {
		names[spec.CamelCase(app.Name)+"Application"] = true
	}
	if len(s.Applications) > 0 {
		names["Applications"], names["Run"] = true, true
	}
	return names
}

// FuzzGenerate checks that whatever a valid spec holds, the generated file
// parses as Go and declares exactly the identifiers the spec calls for: no
// spec content can add code to it.
func FuzzGenerate(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "golden", "*", "spec.arbor.yaml"))
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("version: 1\nsupervisors:\n  a:\n    children: [{id: x, start: F, args: [\"\\\"}, func init() {}//\", \"`\", \"\\u2028\"]}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := spec.Parse("fuzz.arbor.yaml", src)
		if err != nil {
			return
		}
		out, err := gen.Generate(s, gen.Options{Package: "p"})
		if err != nil {
			t.Fatalf("Generate of a valid spec: %v", err)
		}
		file, err := parser.ParseFile(token.NewFileSet(), "out.go", out, parser.ParseComments)
		if err != nil {
			t.Fatalf("generated code does not parse: %v\n%s", err, out)
		}
		want := declared(s)
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					if d.Name.Name != "StartChild" {
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
