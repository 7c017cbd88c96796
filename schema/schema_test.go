package schema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/arborgo/arbor/internal/jsonschema"
	"github.com/arborgo/arbor/schema"
	"github.com/arborgo/arbor/spec"
)

func compile(t testing.TB) *jsonschema.Schema {
	t.Helper()
	s, err := jsonschema.Compile(schema.JSON())
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

func TestDraft(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(schema.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["$schema"] != schema.Draft {
		t.Errorf("$schema = %v, want %s", doc["$schema"], schema.Draft)
	}
	compile(t)
}

// check returns why the spec src breaks the schema: the reasons its YAML has
// no JSON form, or the schema's errors; nil when it passes.
func check(s *jsonschema.Schema, src []byte) []string {
	v, err := fromYAML(src)
	if err != nil {
		return []string{"not a json document: " + err.Error()}
	}
	var out []string
	for _, e := range s.Validate(v) {
		out = append(out, e.Error())
	}
	return out
}

// semantic lists the invalid golden cases whose every mistake is one a
// schema cannot see: it needs the names declared elsewhere in the spec, the
// order of siblings or the whole graph, or it is a detail of the YAML that
// its JSON form does not keep. The schema accepts them; arbor validate does
// not. Every other invalid case has a mistake of shape (a key, a type, a
// value outside its enum or pattern), which the schema must catch.
var semantic = map[string]string{
	"invalid_application_deps":   "unknown and cyclic dependencies",
	"invalid_duplicate_ids":      "two children with one id",
	"invalid_supervisor_cycle":   "supervisors that contain themselves",
	"invalid_unknown_supervisor": "a nested supervisor that is not declared",
	"invalid_float_intensity":    "3.0, a YAML float, is the number 3 in JSON",
	"invalid_merge_depth":        "merge keys nested deeper than arbor reads, merged away in JSON",
	"invalid_tagged_float":       "!!float 1, a YAML float, is the number 1 in JSON",
	"invalid_main_in_main":       "main in package main, and a New function that the spec generates",
	"invalid_uncompilable_names": "names that Go or the generated code keeps, some of them generated from the spec",
	"invalid_cluster_missing":    "a distributed application and a cluster supervisor in a spec without a cluster section",
}

// goldenSpecs returns the specs of the golden cases: the root module's, and
// the cluster module's (cluster/golden), whose code compiles there.
func goldenSpecs(t testing.TB) []string {
	var paths []string
	for _, dir := range []string{filepath.Join("..", "golden"), filepath.Join("..", "cluster", "golden")} {
		m, err := filepath.Glob(filepath.Join(dir, "*", "spec.arbor.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	return paths
}

// TestGoldenSpecs checks every golden spec against the schema: valid ones
// pass, invalid ones fail unless their mistakes are all semantic (and those
// must pass, so that the list above stays true).
func TestGoldenSpecs(t *testing.T) {
	s := compile(t)
	paths := goldenSpecs(t)
	if len(paths) == 0 {
		t.Fatal("no golden specs")
	}
	seen := map[string]bool{}
	for _, p := range paths {
		name := filepath.Base(filepath.Dir(p))
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		errs := check(s, src)
		_, parseErr := spec.Parse("spec.arbor.yaml", src)
		_, isSemantic := semantic[name]
		seen[name] = true
		switch {
		case parseErr == nil && len(errs) > 0:
			t.Errorf("%s is valid, but the schema rejects it:\n%s", name, strings.Join(errs, "\n"))
		case parseErr != nil && !isSemantic && len(errs) == 0:
			t.Errorf("%s is invalid in shape, but the schema accepts it; arbor says:\n%v", name, parseErr)
		case parseErr != nil && isSemantic && len(errs) > 0:
			t.Errorf("%s is listed as semantic only, but the schema rejects it:\n%s", name, strings.Join(errs, "\n"))
		}
	}
	for name := range semantic {
		if !seen[name] {
			t.Errorf("semantic lists %s, which is not a golden case", name)
		}
	}
}

// TestPatternsPortable checks that the schema's patterns keep to the syntax
// on which Go's regular expressions and the ECMA-262 ones that editors use
// agree: no \d, \w, \s, \b, \p classes (Unicode-dependent in one or the
// other), no flags, no lookaround, no \x{...}, and no class that starts with
// "]" (empty in ECMA-262).
func TestPatternsPortable(t *testing.T) {
	var doc any
	if err := json.Unmarshal(schema.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	bad := regexp.MustCompile(`\\[dDwWsSbBpPzAQE]|\(\?[^:]|\\x\{|\[\]|\[\^\]`)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "pattern" {
					if p, ok := x.(string); ok && bad.MatchString(p) {
						t.Errorf("pattern %q is not portable", p)
					}
				}
				if k == "patternProperties" {
					for p := range x.(map[string]any) {
						if bad.MatchString(p) {
							t.Errorf("pattern %q is not portable", p)
						}
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

// TestSpecsThatOnlyTheSchemaSees checks a few values at the edges of the
// language, which the schema must accept as the parser does.
func TestEdgeValues(t *testing.T) {
	s := compile(t)
	for _, src := range []string{
		"version: 1\nsupervisors: {a: {}}\n",
		"version: 1\nsupervisors: {a: {children: }}\nregistries:\napplications:\n",
		"version: 1\nx-any: {whatever: [1, 2]}\nsupervisors: {a: {children: [{id: b, start: example.com/a.b/c-d.F, shutdown: -0s}]}}\n",
		"version: 1\nsupervisors: {a: {children: [{id: b, start: F, shutdown: 0}, {id: c, start: F, shutdown: \"1h2m3.5s\"}, {id: d, start: F, shutdown: 1.5µs}]}}\n",
		"version: 1\nsupervisors: {a: {dynamic: true, max_children: infinity, template: {start: F, extra_args: [\"x\\t[4]map[string]*example.com/p.T\"]}}}\n",
		"version: 0x1\nsupervisors: {a: {max_restarts: 0, max_seconds: 2147483647}}\n",
	} {
		if _, err := spec.Parse("edge.arbor.yaml", []byte(src)); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if errs := check(s, []byte(src)); len(errs) > 0 {
			t.Errorf("%q: the schema rejects it: %v", src, errs)
		}
	}
}

// TestKeysDocumented checks that every property of the schema has a
// description, directly or through its definition.
func TestKeysDocumented(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(schema.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	defs := doc["definitions"].(map[string]any)
	described := func(v any) bool {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["description"]; ok {
			return true
		}
		if ref, ok := m["$ref"].(string); ok {
			_, ok := defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)["description"]
			return ok
		}
		return false
	}
	var missing []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if props, ok := m["properties"].(map[string]any); ok && !strings.Contains(path, "/if") && !strings.Contains(path, "/then") && !strings.Contains(path, "/else") && !strings.Contains(path, "/allOf") {
			for k, p := range props {
				if !described(p) && k != "key" {
					missing = append(missing, path+"/"+k)
				}
				walk(path+"/properties/"+k, p)
			}
		}
		for k, x := range m {
			if k != "properties" {
				walk(path+"/"+k, x)
			}
		}
	}
	walk("#", doc)
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("properties without a description: %v", missing)
	}
}

// FuzzSchema checks that the schema accepts every spec the parser accepts,
// so that an editor never marks a good spec as wrong.
func FuzzSchema(f *testing.F) {
	for _, p := range goldenSpecs(f) {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	s := compile(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, err := spec.Parse("fuzz.arbor.yaml", src); err != nil {
			return
		}
		if errs := check(s, src); len(errs) > 0 {
			t.Fatalf("the parser accepts the spec, the schema does not:\n%s\n%s", src, strings.Join(errs, "\n"))
		}
	})
}
