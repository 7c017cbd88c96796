package arbor_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/graph"
	"github.com/arborgo/arbor/internal/goldentest"
	"github.com/arborgo/arbor/spec"
)

var update = flag.Bool("update", false, "rewrite the expected files of the golden cases")

// The files of a golden case, golden/<case>/.
const (
	specFile   = goldentest.SpecFile
	codeFile   = goldentest.CodeFile
	errorsFile = goldentest.ErrorsFile
)

// goldenCases returns the folders of golden/ that hold a spec.
func goldenCases(t *testing.T) []string { return goldentest.Cases(t, "golden") }

// TestGolden regenerates or revalidates every golden case and compares the
// result with the expected files: spec_arbor.go and the drawings spec.mmd and
// spec.dot for a valid spec, errors.txt for an invalid one. With -update it
// rewrites them. (The cases of the spec's cluster section, whose code
// imports the cluster module, are in cluster/golden, which the cluster
// module's tests run.)
func TestGolden(t *testing.T) {
	for _, dir := range goldenCases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			goldentest.Run(t, dir, filepath.Base(dir), *update)
		})
	}
}

// TestGoldenDeterministic generates every valid case twice and expects the
// same bytes.
func TestGoldenDeterministic(t *testing.T) {
	for _, dir := range goldenCases(t) {
		src, err := os.ReadFile(filepath.Join(dir, specFile))
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(specFile, src)
		if err != nil {
			continue
		}
		opts := gen.Options{Package: filepath.Base(dir), Source: specFile}
		a, err1 := gen.Generate(s, opts)
		b, err2 := gen.Generate(s, opts)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ (errors %v, %v)", dir, err1, err2)
		}
	}
}

// TestGoldenModule builds, vets and tests the golden module, in which every
// expected generated file is compiled against the runtime with the user code
// beside it.
func TestGoldenModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-race", "-count=1", "./..."}} {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = "golden"
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("go %s in golden/: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestExamplesUpToDate fails when a generated file under examples/ is not
// what arbor generate would write from the spec beside it.
func TestExamplesUpToDate(t *testing.T) { goldentest.CheckFresh(t, "examples") }

// usedKeys lists the keys of the language a spec writes, each with what holds
// it, and the kinds of arguments it uses.
func usedKeys(s *spec.Spec) map[string]bool {
	used := map[string]bool{}
	set := func(key string, p spec.Pos) {
		if p.IsValid() {
			used[key] = true
		}
	}
	set("version", s.Version.Pos)
	set("package", s.Package.Pos)
	if len(s.Registries) > 0 {
		used["registries"] = true
	}
	if len(s.Deps) > 0 {
		used["deps"] = true
	}
	for _, r := range s.Registries {
		set("registry.keys", r.Keys.Pos)
		set("registry.key", r.Key.Pos)
		set("registry.value", r.Value.Pos)
		set("registry.pubsub", r.PubSub.Pos)
		set("registry.partitions", r.Partitions.Pos)
		set("registry.partition_by", r.PartitionBy.Pos)
		if len(r.Meta) > 0 {
			used["registry.meta"] = true
		}
		if len(r.Listeners) > 0 {
			used["registry.listeners"] = true
		}
	}
	used["supervisors"] = true
	args := func(where string, list []spec.Arg) {
		for _, a := range list {
			used[where+".args."+[]string{"int", "float", "string", "bool", "null", "ref", "duration", "registry", "dep"}[a.Kind]] = true
		}
	}
	backoff := func(where string, b *spec.Backoff) {
		if b != nil {
			used[where+".backoff"] = true
			set("backoff.min", b.Min.Pos)
			set("backoff.max", b.Max.Pos)
			set("backoff.jitter", b.Jitter.Pos)
		}
	}
	for _, sup := range s.Supervisors {
		set("supervisor.dynamic", sup.Dynamic.Pos)
		set("supervisor.strategy", sup.Strategy.Pos)
		set("supervisor.max_restarts", sup.MaxRestarts.Pos)
		set("supervisor.max_seconds", sup.MaxSeconds.Pos)
		set("supervisor.auto_shutdown", sup.AutoShutdown.Pos)
		set("supervisor.children", sup.ChildrenPos)
		set("supervisor.max_children", sup.MaxChildren.Pos)
		for _, c := range sup.Children {
			set("child.id", c.ID.Pos)
			set("child.start", c.Start.Pos)
			set("child.supervisor", c.Supervisor.Pos)
			set("child.restart", c.Restart.Pos)
			set("child.shutdown", c.Shutdown.Pos)
			set("child.type", c.Type.Pos)
			set("child.significant", c.Significant.Pos)
			if c.Name != nil {
				used["child.name"] = true
				set("name.registry", c.Name.Registry.Pos)
				if c.Name.Key != nil {
					set("name.key", c.Name.Key.Pos)
				}
				if c.Name.Value != nil {
					set("name.value", c.Name.Value.Pos)
				}
			}
			args("child", c.Args)
			backoff("child", c.Backoff)
		}
		if t := sup.Template; t != nil {
			used["supervisor.template"] = true
			set("template.id", t.ID.Pos)
			set("template.start", t.Start.Pos)
			set("template.restart", t.Restart.Pos)
			set("template.shutdown", t.Shutdown.Pos)
			set("template.type", t.Type.Pos)
			set("template.significant", t.Significant.Pos)
			if len(t.ExtraArgs) > 0 {
				used["template.extra_args"] = true
			}
			args("template", t.Args)
			backoff("template", t.Backoff)
		}
	}
	if len(s.Applications) > 0 {
		used["applications"] = true
	}
	for _, app := range s.Applications {
		set("application.supervisor", app.Supervisor.Pos)
		set("application.start_type", app.StartType.Pos)
		set("application.prep_stop", app.PrepStop.Pos)
		set("application.stop", app.Stop.Pos)
		args("application.prep_stop", app.PrepStopArgs)
		args("application.stop", app.StopArgs)
		if len(app.DependsOn) > 0 {
			used["application.depends_on"] = true
		}
	}
	return used
}

// TestGoldenCoversTheLanguage checks that the valid golden cases together
// write every key of the language and every kind of argument.
func TestGoldenCoversTheLanguage(t *testing.T) {
	want := []string{
		"version", "package", "deps", "registries", "registry.keys", "registry.key", "registry.value", "registry.pubsub",
		"registry.partitions", "registry.partition_by", "registry.meta", "registry.listeners", "supervisors", "applications",
		"supervisor.dynamic", "supervisor.strategy", "supervisor.max_restarts", "supervisor.max_seconds",
		"supervisor.auto_shutdown", "supervisor.children", "supervisor.max_children", "supervisor.template",
		"child.id", "child.start", "child.supervisor", "child.restart", "child.shutdown", "child.type",
		"child.significant", "child.name", "child.backoff", "name.registry", "name.key", "name.value",
		"backoff.min", "backoff.max", "backoff.jitter",
		"template.id", "template.start", "template.extra_args", "template.restart", "template.shutdown", "template.type",
		"template.significant", "template.backoff",
		"application.supervisor", "application.start_type", "application.depends_on", "application.prep_stop", "application.stop",
		"child.args.int", "child.args.float", "child.args.string", "child.args.bool", "child.args.null",
		"child.args.ref", "child.args.duration", "child.args.registry", "child.args.dep",
		"template.args.int", "template.args.string", "template.args.registry", "template.args.dep",
		"application.prep_stop.args.dep", "application.stop.args.dep",
	}
	used := map[string]bool{}
	valid, invalid := 0, 0
	for _, dir := range goldenCases(t) {
		src, err := os.ReadFile(filepath.Join(dir, specFile))
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(specFile, src)
		if err != nil {
			invalid++
			continue
		}
		valid++
		for k := range usedKeys(s) {
			used[k] = true
		}
	}
	for _, k := range want {
		if !used[k] {
			t.Errorf("no valid golden case writes %s", k)
		}
	}
	// Issue 8 asks for a corpus of at least 50 malformed specs, each with
	// its expected errors.
	if valid < 15 || invalid < 50 {
		t.Errorf("%d valid and %d invalid golden cases; want at least 15 and 50", valid, invalid)
	}
}

// The Go-check golden cases: golden/testdata/gocheck/<case>/ holds a spec,
// the user's Go file with mistakes the spec meets, and errors.txt, the errors
// arbor generate gives: those of the spec when it is invalid, else those of
// gocheck. They are under testdata, so that the golden module's ./... leaves
// them out: they do not compile, on purpose.
const goCheckCases = "golden/testdata/gocheck"

func TestGoCheckGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	dirs, err := filepath.Glob(filepath.Join(goCheckCases, "*", specFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Errorf("%d go-check golden cases; want at least 10", len(dirs))
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			goldentest.Check(t, filepath.Join(dir, errorsFile), []byte(goldentest.GoCheckErrors(t, dir)+"\n"), *update)
		})
	}
}

// TestGoCheckCasesFailToCompile generates the code of every go-check case
// whose spec is valid and builds it with the user's file: the compiler
// refuses each, as gocheck does, except the case of numbers for parameters
// with a unit, which Go compiles with another meaning than the spec's, and
// the case of import paths that name nothing, which the go command refuses
// before it compiles anything. So gocheck reports mistakes, never its own
// inventions.
func TestGoCheckCasesFailToCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	tmp, err := os.MkdirTemp("golden", "_gocheck")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	dirs, _ := filepath.Glob(filepath.Join(goCheckCases, "*"))
	var pkgs []string
	compiles := map[string]bool{"units": true}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		src, err := os.ReadFile(filepath.Join(dir, specFile))
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(specFile, src)
		if err != nil || name == "wrong_path" {
			continue
		}
		code, err := gen.Generate(s, gen.Options{Source: specFile})
		if err != nil {
			t.Fatal(err)
		}
		user, err := os.ReadFile(filepath.Join(dir, "user.go"))
		if err != nil {
			t.Fatal(err)
		}
		os.Mkdir(filepath.Join(tmp, name), 0o755)
		writeFile(t, filepath.Join(tmp, name), codeFile, code)
		writeFile(t, filepath.Join(tmp, name), "user.go", user)
		pkgs = append(pkgs, "./"+filepath.Join(filepath.Base(tmp), name))
	}
	cmd := exec.Command(goCmd, append([]string{"vet"}, pkgs...)...)
	cmd.Dir = "golden"
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=")
	out, _ := cmd.CombinedOutput()
	for _, p := range pkgs {
		name := filepath.Base(p)
		failed := strings.Contains(string(out), "# github.com/arborgo/arbor/golden/"+filepath.ToSlash(p[2:])+"\n")
		if failed == compiles[name] {
			t.Errorf("case %s: the compiler refuses it: %v, want %v\n%s", name, failed, !compiles[name], out)
		}
	}
}

// TestGoCheckAcceptsWhatCompiles runs gocheck on every valid golden case
// and example, whose code compiles and runs: it must find no mistake.
func TestGoCheckAcceptsWhatCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	golden, _ := filepath.Glob(filepath.Join("golden", "*", specFile))
	examples, _ := filepath.Glob(filepath.Join("examples", "*", "*.arbor.yaml"))
	for _, p := range append(golden, examples...) {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			goldentest.GoCheckAccepts(t, p)
		})
	}
}

// TestGeneratedCodeDocShowsTheGoldenCase checks that docs/generated-code.md
// shows golden/sequence as it is: the spec as the file has it, so that the
// positions in the code shown under it are the spec's lines, and each block
// of generated code marked as an excerpt as the generated file has it.
func TestGeneratedCodeDocShowsTheGoldenCase(t *testing.T) {
	doc, err := os.ReadFile("docs/generated-code.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, kind := range []string{"file", "excerpt"} {
		marker := "<!-- " + kind + ": "
		for rest := string(doc); ; {
			i := strings.Index(rest, marker)
			if i < 0 {
				break
			}
			rest = rest[i+len(marker):]
			path, after, _ := strings.Cut(rest, " -->\n")
			_, block, _ := strings.Cut(after, "\n") // the fence's line
			block, _, _ = strings.Cut(block, "```\n")
			want, err := os.ReadFile(filepath.FromSlash(path))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case kind == "file" && block != string(want):
				t.Errorf("docs/generated-code.md shows %s otherwise than it is (-want +got):\n%s", path, cmp.Diff(string(want), block))
			case kind == "excerpt" && !strings.Contains(string(want), block):
				t.Errorf("docs/generated-code.md shows code that %s does not have:\n%s", path, block)
			}
			blocks++
		}
	}
	if blocks < 3 {
		t.Errorf("docs/generated-code.md shows %d blocks of golden/sequence; want its spec and two excerpts", blocks)
	}
}

// TestDocsDrawTheirSpecs checks that the drawings the docs show are what
// arbor graph draws of their specs today.
func TestDocsDrawTheirSpecs(t *testing.T) {
	for doc, specPath := range map[string]string{"docs/cli.md": "golden/sequence/spec.arbor.yaml", "README.md": "examples/kv/kv.arbor.yaml"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		_, block, ok := strings.Cut(string(text), "```mermaid\n")
		if !ok {
			t.Fatalf("%s shows no drawing", doc)
		}
		block, _, _ = strings.Cut(block, "```\n")
		src, err := os.ReadFile(specPath)
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(specPath, src)
		if err != nil {
			t.Fatal(err)
		}
		want, err := graph.Draw(s, graph.Mermaid)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), block); diff != "" {
			t.Errorf("%s draws %s otherwise than arbor graph does (-want +got):\n%s", doc, specPath, diff)
		}
	}
}

// TestExamplesDocShowsTheSpecs checks that docs/examples.md shows each
// example's spec as it is, but for its comments and version line.
func TestExamplesDocShowsTheSpecs(t *testing.T) {
	doc, err := os.ReadFile("docs/examples.md")
	if err != nil {
		t.Fatal(err)
	}
	specs, _ := filepath.Glob("examples/*/*.arbor.yaml")
	for _, p := range specs {
		name := filepath.Base(filepath.Dir(p))
		_, section, ok := strings.Cut(string(doc), "\n## "+name+"\n")
		if !ok {
			t.Errorf("docs/examples.md has no section %s", name)
			continue
		}
		_, block, _ := strings.Cut(section, "```yaml\n")
		block, _, _ = strings.Cut(block, "```\n")
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, line := range strings.Split(strings.Trim(string(src), "\n"), "\n") {
			if !strings.HasPrefix(line, "#") && line != "version: 1" {
				want = append(want, line)
			}
		}
		if diff := cmp.Diff(strings.Join(want, "\n")+"\n", block); diff != "" {
			t.Errorf("docs/examples.md shows %s otherwise than it is (-want +got):\n%s", p, diff)
		}
	}
}
