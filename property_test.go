package arbor_test

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"go/format"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/spec"
)

// The property test: random valid specs, each through the whole pipeline —
// parse, validate, generate — and then compiled and run: every tree starts,
// runs, and stops cleanly (goleak). To keep it quick, the specs are compiled
// together, in one temporary package of the golden module: those without
// registries and applications as a file each, the others merged into one
// spec (their names are prefixed, so they cannot clash), since a file of
// each would declare Deps, Applications and Run once per spec. Only the
// merged specs have dependencies.
var (
	propertySpecs = flag.Int("property.specs", 200, "random specs in the property test")
	propertySeed  = flag.Uint64("property.seed", 0, "seed of the property test's random specs; 0 picks one and logs it")
	propertyKeep  = flag.Bool("property.keep", false, "keep the property test's generated package in golden/")
)

// propertyRun sets up a property test: it returns the go command, the
// random source of the test's specs, from -property.seed or a new seed that
// it logs, and a new folder under golden/ (so in the golden module) for the
// packages it builds, removed unless the test fails or -property.keep.
func propertyRun(t *testing.T, name string, salt uint64) (goCmd string, seed uint64, rng *rand.Rand, dir string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a module; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	seed = *propertySeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d; reproduce with go test -run %s -property.seed=%d", seed, t.Name(), seed)
	rng = rand.New(rand.NewPCG(seed, seed^salt))
	dir, err = os.MkdirTemp("golden", "_"+name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || *propertyKeep {
			t.Logf("kept the generated packages in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return goCmd, seed, rng, dir
}

func TestProperty(t *testing.T) {
	goCmd, seed, rng, dir := propertyRun(t, "property", 0x9e3779b97f4a7c15)
	p := &property{rng: rng, funcs: map[string]string{}, covered: map[string]bool{}}
	var frags []*fragment
	for i := 0; i < *propertySpecs; i++ {
		frags = append(frags, p.fragment(i))
	}
	if *propertySpecs >= 200 {
		p.checkCoverage(t)
	}

	// Every spec through the pipeline on its own, and the files.
	var merged []*fragment
	for _, f := range frags {
		src := f.yaml([]*fragment{f})
		s, err := spec.Parse(f.prefix+".arbor.yaml", src)
		if err != nil {
			t.Fatalf("random spec %s is invalid (seed %d):\n%v\n%s", f.prefix, seed, err, src)
		}
		code, err := gen.Generate(s, gen.Options{Package: "property"})
		if err != nil {
			t.Fatalf("generate %s: %v", f.prefix, err)
		}
		if formatted, err := format.Source(code); err != nil || !bytes.Equal(formatted, code) {
			t.Fatalf("%s: generated code is not gofmt'd: %v", f.prefix, err)
		}
		if f.shared() {
			merged = append(merged, f)
			continue
		}
		writeFile(t, dir, f.prefix+".arbor.yaml", src)
		writeFile(t, dir, f.prefix+"_arbor.go", code)
	}
	if len(merged) > 0 {
		src := merged[0].yaml(merged)
		s, err := spec.Parse("merged.arbor.yaml", src)
		if err != nil {
			t.Fatalf("the merged spec is invalid (seed %d):\n%v", seed, err)
		}
		code, err := gen.Generate(s, gen.Options{Package: "property"})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "merged.arbor.yaml", src)
		writeFile(t, dir, "merged_arbor.go", code)
	}
	writeFile(t, dir, "user.go", p.userCode())
	writeFile(t, dir, "trees_test.go", p.driver(frags, merged))

	// Most of the time is the build: every generated supervisor type gets
	// wrappers for all the methods of the runtime type it embeds. The
	// package is built without optimizations, which saves a quarter of it
	// (the runtime is built as usual, with the race detector).
	pkg := "github.com/arborgo/arbor/golden/" + filepath.Base(dir)
	cmd := exec.Command(goCmd, "test", "-race", "-vet=off", "-count=1", "-gcflags="+pkg+"=-N -l", "./"+filepath.Base(dir))
	cmd.Dir = "golden"
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the trees of %d random specs (seed %d) do not build or run: %v\n%s", len(frags), seed, err, out)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// property makes random specs and the user code they call.
type property struct {
	rng     *rand.Rand
	funcs   map[string]string // start function name -> its declaration
	covered map[string]bool   // what the specs use, for checkCoverage
	sigs    [][]string        // the lists of argument kinds in use
	tmpls   [][]string        // the extra argument types of templates in use
}

type fragment struct {
	i       int
	prefix  string
	regs    []string
	deps    []dep
	sups    []*supervisor // roots first, then the others
	roots   []*supervisor // the top supervisors: of the tree, and of applications
	apps    []*application
	dynamic []*supervisor
}

// dep is a dependency of a fragment: its name, and its type as the spec and
// as Go write it.
type dep struct {
	name, yaml, goType string
}

// shared reports whether the fragment declares what each generated file
// declares once (Deps, Applications, Run).
func (f *fragment) shared() bool { return len(f.regs) > 0 || len(f.apps) > 0 }

type supervisor struct {
	name         string
	dynamic      bool
	flags        []string // YAML key: value pairs, written as they are
	autoShutdown string
	children     []*child
	template     *template
	maxChildren  int // for StartChild: how many children to start
}

type child struct {
	id        string
	fields    []string // YAML key: value pairs
	nested    *supervisor
	worker    bool // started by a local start function that returns *W
	temporary bool
	ignored   bool
}

type template struct {
	start      string
	extraTypes []string
}

type application struct {
	name   string
	fields []string
}

func (p *property) pick(options ...string) string { return options[p.rng.IntN(len(options))] }

func (p *property) cover(what ...string) {
	for _, w := range what {
		p.covered[w] = true
	}
}

// coverageWants are the values of the language that 200 random specs
// must use, each at least once.
var coverageWants = []string{
	"strategy one_for_one", "strategy one_for_all", "strategy rest_for_one",
	"restart permanent", "restart transient", "restart temporary", "restart default",
	"shutdown brutal_kill", "shutdown infinity", "shutdown duration", "shutdown ms", "shutdown zero", "shutdown default",
	"auto_shutdown any_significant", "auto_shutdown all_significant", "auto_shutdown never", "significant",
	"nested", "nested twice", "dynamic", "dynamic template", "dynamic bare", "max_children", "extra_args",
	"type supervisor", "ignore", "qualified start", "backoff", "registries", "name",
	"applications", "depends_on", "start_type permanent", "start_type transient", "start_type temporary", "prep_stop", "stop",
	"arg int", "arg float", "arg string", "arg bool", "arg null", "arg duration", "arg ref", "arg registry", "arg dep", "args 8",
}

// checkCoverage fails when the specs leave a value of the language unused.
func (p *property) checkCoverage(t *testing.T) {
	for _, want := range coverageWants {
		if !p.covered[want] {
			t.Errorf("no random spec covers %s", want)
		}
	}
}

// fragment makes the random spec i. Some choices cycle with i, so that 200
// specs surely cover every value; the rest is random.
func (p *property) fragment(i int) *fragment {
	f := &fragment{i: i, prefix: fmt.Sprintf("p%d", i)}
	if i%4 == 1 || i%4 == 2 && p.rng.IntN(2) == 0 {
		for r := 0; r <= p.rng.IntN(2); r++ {
			f.regs = append(f.regs, fmt.Sprintf("%s_r%d", f.prefix, r))
		}
		p.cover("registries")
	}
	root := p.supervisor(f, "root", 0)
	f.roots = append(f.roots, root)
	if i%4 == 0 {
		p.applications(f)
	}
	return f
}

func (p *property) supervisor(f *fragment, name string, depth int) *supervisor {
	s := &supervisor{name: f.prefix + "_" + name}
	f.sups = append(f.sups, s)
	strategy := []string{"one_for_one", "one_for_all", "rest_for_one"}[(f.i+depth)%3]
	p.cover("strategy " + strategy)
	if p.rng.IntN(4) > 0 || strategy != "one_for_one" {
		s.flags = append(s.flags, "strategy: "+strategy)
	}
	if p.rng.IntN(2) == 0 {
		s.flags = append(s.flags, fmt.Sprintf("max_restarts: %d", p.rng.IntN(11)), fmt.Sprintf("max_seconds: %d", 1+p.rng.IntN(60)))
	}
	s.autoShutdown = []string{"never", "any_significant", "all_significant"}[p.rng.IntN(3)]
	p.cover("auto_shutdown " + s.autoShutdown)
	if s.autoShutdown != "never" || p.rng.IntN(3) == 0 {
		s.flags = append(s.flags, "auto_shutdown: "+s.autoShutdown)
	}
	// Small trees: the size of the package is the time of its build.
	n := 1 + p.rng.IntN(3)
	if depth == 0 {
		n++
	}
	for c := 0; c < n; c++ {
		s.children = append(s.children, p.child(f, s, c, depth))
	}
	return s
}

func (p *property) dynamicSupervisor(f *fragment, name string) *supervisor {
	s := &supervisor{name: f.prefix + "_" + name, dynamic: true, maxChildren: 2}
	f.sups = append(f.sups, s)
	f.dynamic = append(f.dynamic, s)
	p.cover("dynamic")
	if p.rng.IntN(2) == 0 {
		s.flags = append(s.flags, "strategy: one_for_one", "auto_shutdown: never")
	}
	switch p.rng.IntN(3) {
	case 0:
		s.flags = append(s.flags, "max_children: infinity")
	case 1:
		s.maxChildren = 1 + p.rng.IntN(3)
		s.flags = append(s.flags, fmt.Sprintf("max_children: %d", s.maxChildren))
		p.cover("max_children")
	}
	if p.rng.IntN(4) == 0 {
		p.cover("dynamic bare")
		return s
	}
	p.cover("dynamic template")
	args := p.args(f, nil, 0, 1+p.rng.IntN(3), false)
	var kinds, yamlArgs []string
	for _, a := range args {
		kinds = append(kinds, a.goType)
		yamlArgs = append(yamlArgs, a.yaml)
	}
	t := &template{}
	if len(p.tmpls) >= maxSignatures/4 || len(p.tmpls) > 0 && p.rng.IntN(2) == 0 {
		t.extraTypes = p.tmpls[p.rng.IntN(len(p.tmpls))]
	} else {
		extraTypes := []string{"string", "int", "*int", "[]string", "[4]time.Duration", "map[string][]*Label", "time.Duration", "*github.com/arborgo/arbor/golden/internal/svc.Options", "Label"}
		for x := p.rng.IntN(4); x > 0; x-- {
			t.extraTypes = append(t.extraTypes, extraTypes[p.rng.IntN(len(extraTypes))])
		}
		p.tmpls = append(p.tmpls, t.extraTypes)
	}
	if len(args)+len(t.extraTypes) > spec.MaxArgs {
		args = args[:spec.MaxArgs-len(t.extraTypes)]
		kinds = kinds[:len(args)]
		yamlArgs = yamlArgs[:len(args)]
	}
	var extra []string
	for x, typ := range t.extraTypes {
		extra = append(extra, fmt.Sprintf("%q", fmt.Sprintf("x%d %s", x, typ)))
		p.cover("extra_args")
	}
	goTypes := append(slices.Clone(kinds), goTypeOf(t.extraTypes)...)
	t.start = p.startFunc(goTypes, false)
	s.template = t
	fields := []string{"start: " + t.start}
	if len(yamlArgs) > 0 {
		fields = append(fields, "args: ["+strings.Join(yamlArgs, ", ")+"]")
	}
	if len(extra) > 0 {
		fields = append(fields, "extra_args: ["+strings.Join(extra, ", ")+"]")
	}
	restart := p.pick("permanent", "transient", "temporary", "")
	if restart != "" {
		fields = append(fields, "restart: "+restart)
	}
	fields = append(fields, p.shutdownField()...)
	if p.rng.IntN(3) == 0 {
		fields = append(fields, "backoff: {min: 1ms, max: 100ms, jitter: 0.5}")
	}
	s.flags = append(s.flags, "template: {"+strings.Join(fields, ", ")+"}")
	return s
}

// goTypeOf turns the types of extra arguments into Go, as the generated
// code spells them in the package: import paths become package names.
func goTypeOf(types []string) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = strings.ReplaceAll(t, "github.com/arborgo/arbor/golden/internal/svc.", "svc.")
	}
	return out
}

func (p *property) shutdownField() []string {
	var v string
	switch k := p.rng.IntN(6); k {
	case 0:
		v = "brutal_kill"
	case 1:
		v = "infinity"
	case 2:
		v = p.pick("5s", "1m30s", "250ms", "1h")
		p.cover("shutdown duration")
	case 3:
		v = strconv.Itoa(1 + p.rng.IntN(5000))
		p.cover("shutdown ms")
	case 4:
		v = p.pick("0", "0s")
		p.cover("shutdown zero")
	default:
		p.cover("shutdown default")
		return nil
	}
	if v == "brutal_kill" || v == "infinity" {
		p.cover("shutdown " + v)
	}
	return []string{"shutdown: " + v}
}

// arg is one argument of a start function: as the spec writes it, and the
// type of its parameter.
type arg struct {
	yaml, goType string
}

// maxSignatures bounds the distinct lists of argument kinds, and so the
// distinct start functions: each is an instantiation of runtime.BindN, which
// the compiler builds once for the package, and most of the build's time.
const maxSignatures = 40

// args makes the arguments of a start function: n random ones, or a list of
// kinds used before (always once maxSignatures are in use). refs may name
// the workers among the siblings before at.
func (p *property) args(f *fragment, siblings []*child, at, n int, refs bool) []arg {
	available := map[string]bool{"int": true, "float": true, "string": true, "bool": true, "null": true, "duration": true}
	if len(f.regs) > 0 {
		// A fragment with registries is merged, and may have
		// dependencies.
		available["registry"], available["dep"] = true, true
	}
	var targets []*child
	for _, c := range siblings[:at] {
		if c.worker && !c.ignored {
			targets = append(targets, c)
		}
	}
	if refs && len(targets) > 0 {
		available["ref"] = true
	}
	if len(p.sigs) == 0 {
		// Signatures that cover every kind and the most arguments.
		p.sigs = [][]string{
			{"int", "float", "string", "bool", "null", "duration", "int", "string"},
			{"registry"}, {"ref"}, {"ref", "registry", "int"}, {"dep"}, {"dep", "ref", "dep"}, {},
		}
	}
	var kinds []string
	if len(p.sigs) >= maxSignatures || p.rng.IntN(2) == 0 {
		var fits [][]string
		for _, sig := range p.sigs {
			if !slices.ContainsFunc(sig, func(k string) bool { return !available[k] }) {
				fits = append(fits, sig)
			}
		}
		kinds = fits[p.rng.IntN(len(fits))] // {} always fits
	} else {
		var choices []string
		for _, k := range []string{"int", "float", "string", "bool", "null", "duration", "registry", "ref", "ref", "dep"} {
			if available[k] {
				choices = append(choices, k)
			}
		}
		for k := 0; k < n; k++ {
			kinds = append(kinds, choices[p.rng.IntN(len(choices))])
		}
		if !slices.ContainsFunc(p.sigs, func(sig []string) bool { return slices.Equal(sig, kinds) }) {
			p.sigs = append(p.sigs, kinds)
		}
	}
	if len(kinds) == spec.MaxArgs {
		p.cover("args 8")
	}
	var out []arg
	for _, kind := range kinds {
		p.cover("arg " + kind)
		var a arg
		switch kind {
		case "int":
			a = arg{strconv.Itoa(p.rng.IntN(2000) - 1000), "int"}
		case "float":
			a = arg{p.pick("1.5", "-2.0", "1e21", "0.1"), "float64"}
		case "string":
			a = arg{strconv.Quote(p.pick("plain", "quote \" and \\ backslash", "line\nbreak", "\u202eright-to-left", "`; os.Exit(1)", "*/")), "string"}
		case "bool":
			a = arg{p.pick("true", "false"), "bool"}
		case "null":
			a = arg{"null", "*int"}
		case "duration":
			a = arg{"{duration: " + p.pick("1500ms", "1h", "-1s", "0s", "250") + "}", "time.Duration"}
		case "registry":
			a = arg{"{registry: " + f.regs[p.rng.IntN(len(f.regs))] + "}", "*runtime.Registry[string]"}
		case "ref":
			a = arg{"{ref: " + targets[p.rng.IntN(len(targets))].id + "}", "*runtime.Ref[*W]"}
		case "dep":
			// Each use a dependency of its own, declared in the
			// fragment, so that none is unused; of a type that
			// follows from the use's place, so that the signatures
			// stay few.
			typ := []struct{ yaml, goType string }{{"int", "int"}, {`"*W"`, "*W"}, {"time.Duration", "time.Duration"}, {"map[string]int", "map[string]int"}}[len(out)%4]
			d := dep{fmt.Sprintf("%s_d%d", f.prefix, len(f.deps)), typ.yaml, typ.goType}
			f.deps = append(f.deps, d)
			a = arg{"{dep: " + d.name + "}", d.goType}
		}
		out = append(out, a)
	}
	return out
}

// startFunc returns the name of a local start function with parameters of
// the given Go types, declaring it in the user code.
func (p *property) startFunc(types []string, ignore bool) string {
	key := strings.Join(types, ",")
	if ignore {
		key = "ignore:" + key
	}
	name := fmt.Sprintf("New%d", len(p.funcs))
	for n, k := range p.funcs {
		if strings.HasPrefix(k, key+"\n") {
			return n
		}
	}
	var params []string
	for i, t := range types {
		params = append(params, fmt.Sprintf("a%d %s", i, t))
	}
	result := "&W{}, nil"
	if ignore {
		result = "nil, runtime.ErrIgnore"
	}
	p.funcs[name] = key + "\n" + fmt.Sprintf("func %s(%s) (*W, error) { return %s }\n",
		name, strings.Join(append([]string{"ctx context.Context"}, params...), ", "), result)
	return name
}

func (p *property) child(f *fragment, s *supervisor, index, depth int) *child {
	c := &child{id: fmt.Sprintf("c%d", index)}
	k := p.rng.IntN(12)
	// Surely an ignoring worker now and then: its start takes no argument.
	ignore := f.i%10 == 5 && index == 0
	switch {
	case ignore:
		k = 3
	case f.i%10 == 3 && index == 0:
		k = 0 // surely nested twice, now and then
	case f.i%10 == 7 && index == 0:
		k = 1 // surely a dynamic supervisor, now and then
	}
	switch {
	case k == 0 && depth < 2:
		c.nested = p.supervisor(f, fmt.Sprintf("s%d_%d", depth+1, len(f.sups)), depth+1)
		c.fields = append(c.fields, "supervisor: "+c.nested.name)
		p.cover("nested")
		if depth == 1 {
			p.cover("nested twice")
		}
	case k == 1 && depth < 3:
		c.nested = p.dynamicSupervisor(f, fmt.Sprintf("d%d", len(f.sups)))
		c.fields = append(c.fields, "supervisor: "+c.nested.name)
	case k == 2:
		c.fields = append(c.fields, "start: github.com/arborgo/arbor/golden/internal/svc.New")
		p.cover("qualified start")
	default:
		var args []arg
		if !ignore {
			args = p.args(f, s.children, index, p.rng.IntN(4), true)
		}
		var types, yamlArgs []string
		for _, a := range args {
			types = append(types, a.goType)
			yamlArgs = append(yamlArgs, a.yaml)
		}
		c.ignored = len(args) == 0 && (ignore || p.rng.IntN(8) == 0)
		if c.ignored {
			p.cover("ignore")
		}
		c.worker = true
		c.fields = append(c.fields, "start: "+p.startFunc(types, c.ignored))
		if len(args) > 0 {
			c.fields = append(c.fields, "args: ["+strings.Join(yamlArgs, ", ")+"]")
		}
		if p.rng.IntN(6) == 0 {
			c.fields = append(c.fields, "type: supervisor")
			p.cover("type supervisor")
		}
	}
	restart := p.pick("permanent", "transient", "temporary", "")
	if s.autoShutdown != "never" && !c.ignored && p.rng.IntN(2) == 0 {
		restart = p.pick("transient", "temporary")
		c.fields = append(c.fields, "significant: true")
		p.cover("significant")
	}
	p.cover("restart " + cmp.Or(restart, "default"))
	if restart != "" {
		c.fields = append(c.fields, "restart: "+restart)
	}
	c.temporary = restart == "temporary"
	c.fields = append(c.fields, p.shutdownField()...)
	if len(f.regs) > 0 && p.rng.IntN(3) == 0 {
		c.fields = append(c.fields, fmt.Sprintf("name: {registry: %s, key: %q}", f.regs[p.rng.IntN(len(f.regs))], s.name+"/"+c.id))
		p.cover("name")
	}
	if p.rng.IntN(8) == 0 && restart != "temporary" {
		c.fields = append(c.fields, "backoff: {min: 10ms, max: 1s}")
		p.cover("backoff")
	}
	return c
}

func (p *property) applications(f *fragment) {
	p.cover("applications")
	n := 1 + p.rng.IntN(3)
	for a := 0; a < n; a++ {
		top := f.roots[0]
		if a > 0 {
			top = p.supervisor(f, fmt.Sprintf("top%d", a), 2)
			f.roots = append(f.roots, top)
		}
		app := &application{name: fmt.Sprintf("%s_a%d", f.prefix, a), fields: []string{"supervisor: " + top.name}}
		st := []string{"permanent", "transient", "temporary"}[(f.i/4+a)%3]
		p.cover("start_type " + st)
		app.fields = append(app.fields, "start_type: "+st)
		if a > 0 && p.rng.IntN(2) == 0 {
			var deps []string
			for d := 0; d < a; d++ {
				if p.rng.IntN(2) == 0 {
					deps = append(deps, fmt.Sprintf("%s_a%d", f.prefix, d))
				}
			}
			if len(deps) > 0 {
				app.fields = append(app.fields, "depends_on: ["+strings.Join(deps, ", ")+"]")
				p.cover("depends_on")
			}
		}
		if p.rng.IntN(3) == 0 {
			app.fields = append(app.fields, "prep_stop: PrepStop")
			p.cover("prep_stop")
		}
		if p.rng.IntN(3) == 0 {
			app.fields = append(app.fields, "stop: "+p.pick("Stop", "github.com/arborgo/arbor/golden/internal/hooks.Stop"))
			p.cover("stop")
		}
		f.apps = append(f.apps, app)
	}
}

// yaml writes the spec of the fragments, which together are one spec.
func (f *fragment) yaml(frags []*fragment) []byte {
	var b strings.Builder
	b.WriteString("# A random spec of the property test (property_test.go).\nversion: 1\n")
	var regs []string
	for _, g := range frags {
		regs = append(regs, g.regs...)
	}
	var deps []dep
	for _, g := range frags {
		deps = append(deps, g.deps...)
	}
	if len(deps) > 0 {
		b.WriteString("deps:\n")
		for _, d := range deps {
			fmt.Fprintf(&b, "  %s: %s\n", d.name, d.yaml)
		}
	}
	if len(regs) > 0 {
		b.WriteString("registries:\n")
		for _, r := range regs {
			fmt.Fprintf(&b, "  %s: {}\n", r)
		}
	}
	b.WriteString("supervisors:\n")
	for _, g := range frags {
		for _, s := range g.sups {
			fmt.Fprintf(&b, "  %s:\n", s.name)
			if s.dynamic {
				b.WriteString("    dynamic: true\n")
			}
			for _, fl := range s.flags {
				fmt.Fprintf(&b, "    %s\n", fl)
			}
			if !s.dynamic {
				b.WriteString("    children:\n")
				for _, c := range s.children {
					fmt.Fprintf(&b, "      - {id: %s, %s}\n", c.id, strings.Join(c.fields, ", "))
				}
			}
		}
	}
	var apps []*application
	for _, g := range frags {
		apps = append(apps, g.apps...)
	}
	if len(apps) > 0 {
		b.WriteString("applications:\n")
		for _, a := range apps {
			fmt.Fprintf(&b, "  %s: {%s}\n", a.name, strings.Join(a.fields, ", "))
		}
	}
	return []byte(b.String())
}

// userCode declares the start functions the specs call.
func (p *property) userCode() []byte {
	var b strings.Builder
	b.WriteString(`package property

import (
	"context"
	"time"

	"github.com/arborgo/arbor/golden/internal/svc"
	"github.com/arborgo/arbor/runtime"
)

// W is every worker: it runs until it is stopped.
type W struct{}

func (*W) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Label is a type of the package, for extra arguments.
type Label struct{ Name string }

func PrepStop(ctx context.Context) {}
func Stop(ctx context.Context)     {}

var (
	_ time.Duration
	_ *svc.Options
	_ *runtime.Ref[*W]
)

`)
	names := make([]string, 0, len(p.funcs))
	for n := range p.funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		_, decl, _ := strings.Cut(p.funcs[n], "\n")
		b.WriteString(decl)
	}
	return []byte(b.String())
}

// driver writes the test that runs every tree.
func (p *property) driver(frags, merged []*fragment) []byte {
	withApps := len(merged) > 0
	// The merged spec's NewDeps takes a zero value of each dependency.
	var zeros []string
	for _, f := range merged {
		for _, d := range f.deps {
			zeros = append(zeros, "*new("+d.goType+")")
		}
	}
	newDeps := "NewDeps(" + strings.Join(zeros, ", ") + ")"
	var b strings.Builder
	b.WriteString(`package property

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arborgo/arbor/golden/internal/svc"
	"github.com/arborgo/arbor/runtime"
)

var _ *svc.Options // for extra arguments of its types

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// quiet drops the runtime's reports: shutdown 0 gives up on children at
// once, which the default sink would log.
var quiet = runtime.WithEventHook(context.Background(), func(runtime.Event) {})

type server interface {
	Serve(context.Context) error
	CountChildren(context.Context) (runtime.Counts, error)
}

// serve runs s and returns where its Serve returns.
func serve(ctx context.Context, s server) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	return done
}

// specs checks that s is up and has the child specs it should.
func specs(t *testing.T, ctx context.Context, what string, s server, want int) {
	t.Helper()
	c, err := s.CountChildren(ctx)
	if err != nil || c.Specs != want {
		t.Errorf("%s: CountChildren = %+v, %v; want %d specs", what, c, err, want)
	}
}

// stopped waits for a Serve to return a clean stop.
func stopped(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil && !runtime.IsShutdown(err) {
			t.Errorf("%s: Serve returned %v", what, err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s did not stop within a minute", what)
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var trees = []struct {
	name string
	run  func(t *testing.T)
}{
`)
	for _, f := range frags {
		fmt.Fprintf(&b, "\t{%q, tree%d},\n", f.prefix, f.i)
	}
	b.WriteString("}\n")
	for _, f := range frags {
		fmt.Fprintf(&b, "\nfunc tree%d(t *testing.T) {\n", f.i)
		b.WriteString("\t\tctx, cancel := context.WithCancel(quiet)\n\t\tdefer cancel()\n")
		regArg := ""
		if f.shared() {
			b.WriteString("\t\tdeps := " + newDeps + "\n")
			regArg = ", deps"
		}
		b.WriteString("\t\tvar done []<-chan error\n")
		for _, r := range f.roots {
			want := 0
			for _, c := range r.children {
				if !(c.ignored && c.temporary) {
					want++
				}
			}
			fmt.Fprintf(&b, "\t\t{\n\t\t\ts, err := New%sSupervisor(ctx%s)\n\t\t\tcheck(t, err)\n\t\t\tdone = append(done, serve(ctx, s))\n\t\t\tspecs(t, ctx, %q, s, %d)\n\t\t}\n",
				spec.CamelCase(r.name), regArg, r.name, want)
		}
		for _, d := range f.dynamic {
			fmt.Fprintf(&b, "\t\t{\n\t\t\td, err := New%sSupervisor(ctx%s)\n\t\t\tcheck(t, err)\n\t\t\tdone = append(done, serve(ctx, d))\n", spec.CamelCase(d.name), regArg)
			started := 0
			if d.template != nil {
				var extra []string
				for _, typ := range goTypeOf(d.template.extraTypes) {
					extra = append(extra, "*new("+typ+")")
				}
				started = d.maxChildren
				for k := 0; k < started; k++ {
					fmt.Fprintf(&b, "\t\t\t_, err = d.StartChild(%s)\n\t\t\tcheck(t, err)\n", strings.Join(append([]string{"ctx"}, extra...), ", "))
				}
			}
			fmt.Fprintf(&b, "\t\t\tspecs(t, ctx, %q, d, %d)\n\t\t}\n", d.name, started)
		}
		b.WriteString("\t\tcancel()\n\t\tfor _, d := range done {\n\t\t\tstopped(t, t.Name(), d)\n\t\t}\n}\n")
	}
	b.WriteString(`
// TestTrees starts every tree, checks it is up, stops it, and checks that
// nothing of it is left running.
func TestTrees(t *testing.T) {
	for _, tree := range trees {
		t.Run(tree.name, tree.run)
		goleak.VerifyNone(t)
	}
}
`)
	if withApps {
		b.WriteString(`
// TestApplications starts every application of the merged spec, in
// dependency order, and stops them.
func TestApplications(t *testing.T) {
	ctx, cancel := context.WithCancel(quiet)
	defer cancel()
	specs := Applications(` + newDeps + `)
	apps, err := runtime.StartApplications(ctx, specs...)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := apps.Snapshot(ctx)
	if err != nil || len(snap) != len(specs) {
		t.Errorf("Snapshot = %d applications, %v; want %d", len(snap), err, len(specs))
	}
	if err := apps.StopAll(ctx); err != nil {
		t.Errorf("StopAll: %v", err)
	}
	if err := apps.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
}
`)
	}
	return []byte(b.String())
}

// The adversarial property: what validates, compiles. A random spec is
// made of names chosen to break the generated code (Go's keywords and
// predeclared names, the names arbor generates and the names of its
// parameters and locals, init and main, names that differ only in case or
// underscores), in every role a name has: supervisor, child, application,
// registry, start function, extra argument and its type. Every name the
// validator refuses must be refused at its own line; it is then replaced by
// a plain one, until the spec validates. That spec must then generate and
// compile with the user code it names. A name that validates but does not
// compile fails the test, with the seed to reproduce it.

var adversarialSpecs = flag.Int("property.adversarial", 6, "random specs of adversarial names in the adversarial property test")

// adversarialNames are the names that have broken, or could break, the
// generated code.
var adversarialNames = []string{
	// Go's keywords and predeclared names.
	"func", "type", "map", "chan", "go", "select", "range", "return", "package", "import", "var", "const",
	"interface", "struct", "default", "defer", "error", "nil", "string", "len", "any", "true", "false",
	"iota", "new", "make", "append", "int", "bool", "byte", "comparable", "panic", "print", "min", "max",
	"clear", "close", "copy", "delete", "cap",
	// What arbor generates, and its parameters and locals.
	"run", "Run", "applications", "Applications", "deps", "Deps", "new_deps",
	"NewDeps", "start_applications", "StartApplications", "applicationsInStartOrder",
	"ctx", "reg", "s", "d", "r", "err", "children", "children1", "app", "apps", "specs", "i",
	"runtime", "context", "time", "svc", "listener", "Ref", "x_ref", "name_top_w", "fmt",
	// init and main, and names that differ only in case or underscores.
	"init", "main", "my_pool", "myPool", "My_Pool", "a_b", "aB", "ab", "AB", "x", "X", "x_", "_x",
	// Names like the names arbor generates from other names.
	"top", "top_w", "topChildren", "TopSupervisor", "TopSupervisorSpec", "NewTopSupervisor",
	"new_top", "top_supervisor", "app_application", "AppApplication",
}

// adversarialTypes are types for extra arguments.
var adversarialTypes = []string{
	"string", "int", "any", "error", "comparable", "nil", "iota", "true", "len", "init", "main", "Run",
	"Deps", "*Deps", "[]Deps", "[2]Deps", "TopSupervisor", "[]string", "map[string]int", "*int", "Applications", "x",
}

// advName is a name of the spec and the line it is written on.
type advName struct {
	name string
	line int
}

type advChild struct {
	id     *advName
	start  *advName // nil for a nested supervisor
	nested *advSup
	args   int    // 0 to 2: an int, then a string
	ref    string // the id of an earlier sibling, or ""
	named  *advName
}

type advSup struct {
	name     *advName
	children []*advChild
	dynamic  bool
	tstart   *advName
	extra    [][2]*advName // name, type
}

type advApp struct {
	name     *advName
	sup      *advSup
	prepStop *advName
}

type advSpec struct {
	rng   *rand.Rand
	deps  [][2]*advName // name, type
	regs  []*advName
	sups  []*advSup
	apps  []*advApp
	plain int // plain names made so far
}

func (a *advSpec) pick() string { return adversarialNames[a.rng.IntN(len(adversarialNames))] }

// pickNew picks a name not in used, and marks it used: names declared
// twice are an error of another kind, which golden cases cover.
func (a *advSpec) pickNew(used map[string]bool) string {
	for {
		if n := a.pick(); !used[n] {
			used[n] = true
			return n
		}
	}
}

// plainName returns a new name that breaks nothing.
func (a *advSpec) plainName(prefix string) string {
	a.plain++
	return fmt.Sprintf("%s%d", prefix, a.plain)
}

func newAdvSpec(rng *rand.Rand) *advSpec {
	a := &advSpec{rng: rng}
	regs, sups, apps, deps := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for range 1 + rng.IntN(2) {
		a.deps = append(a.deps, [2]*advName{{name: a.pickNew(deps)}, {name: adversarialTypes[rng.IntN(len(adversarialTypes))]}})
	}
	for range 2 {
		a.regs = append(a.regs, &advName{name: a.pickNew(regs)})
	}
	nSups := 3 + rng.IntN(3)
	for i := range nSups {
		s := &advSup{name: &advName{name: a.pickNew(sups)}}
		if i > 0 && rng.IntN(3) == 0 {
			s.dynamic = true
			s.tstart = &advName{name: a.pick()}
			for range rng.IntN(3) {
				s.extra = append(s.extra, [2]*advName{{name: a.pick()}, {name: adversarialTypes[rng.IntN(len(adversarialTypes))]}})
			}
		}
		a.sups = append(a.sups, s)
	}
	for i, s := range a.sups {
		if s.dynamic {
			continue
		}
		ids := map[string]bool{}
		for c := range 2 + rng.IntN(3) {
			ch := &advChild{id: &advName{name: a.pickNew(ids)}}
			switch {
			case c == 0 && i+1 < len(a.sups):
				ch.nested = a.sups[i+1]
			default:
				ch.start = &advName{name: a.pick()}
				ch.args = rng.IntN(3)
				if c > 0 && rng.IntN(3) == 0 && s.children[c-1].start != nil {
					ch.ref = s.children[c-1].id.name
				}
				if rng.IntN(3) == 0 {
					ch.named = &advName{name: a.pick()}
				}
			}
			s.children = append(s.children, ch)
		}
	}
	for range 1 + rng.IntN(2) {
		app := &advApp{name: &advName{name: a.pickNew(apps)}, sup: a.sups[0]}
		if rng.IntN(2) == 0 {
			app.prepStop = &advName{name: a.pick()}
		}
		a.apps = append(a.apps, app)
	}
	return a
}

// yaml writes the spec, noting the line of each name.
func (a *advSpec) yaml() []byte {
	var b strings.Builder
	line := 1
	w := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		line += strings.Count(fmt.Sprintf(format, args...), "\n")
	}
	at := func(n *advName) string { n.line = line; return strconv.Quote(n.name) }
	w("version: 1\npackage: adversarial\n")
	// Every dependency is passed by the first child that can take
	// arguments; without one, there are none.
	var taker *advChild
	for _, s := range a.sups {
		for _, ch := range s.children {
			if taker == nil && ch.start != nil && !isGeneratedNew(a, ch.start.name) {
				taker = ch
			}
		}
	}
	if taker != nil {
		w("deps:\n")
		for _, d := range a.deps {
			d[1].line = line
			w("  %s: %s\n", at(d[0]), strconv.Quote(d[1].name))
		}
	}
	w("registries:\n")
	for _, r := range a.regs {
		w("  %s: {}\n", at(r))
	}
	w("supervisors:\n")
	for _, s := range a.sups {
		w("  %s:\n", at(s.name))
		if s.dynamic {
			w("    dynamic: true\n    template:\n")
			w("      start: %s\n", at(s.tstart))
			w("      extra_args:\n")
			for _, x := range s.extra {
				x[1].line = line
				w("        - %s\n", strconv.Quote(at(x[0])[1:len(at(x[0]))-1]+" "+x[1].name))
			}
			continue
		}
		w("    strategy: rest_for_one\n    children:\n")
		for _, ch := range s.children {
			w("      - id: %s\n", at(ch.id))
			if ch.nested != nil {
				w("        supervisor: %s\n", strconv.Quote(ch.nested.name.name))
				continue
			}
			w("        start: %s\n", at(ch.start))
			var args []string
			if !isGeneratedNew(a, ch.start.name) {
				if ch.args > 0 {
					args = append(args, "7")
				}
				if ch.args > 1 {
					args = append(args, `"seven"`)
				}
				if ch.ref != "" {
					args = append(args, "{ref: "+strconv.Quote(ch.ref)+"}")
				}
				if ch == taker {
					for _, d := range a.deps {
						args = append(args, "{dep: "+strconv.Quote(d[0].name)+"}")
					}
				}
			}
			if len(args) > 0 {
				w("        args: [%s]\n", strings.Join(args, ", "))
			}
			if ch.named != nil {
				w("        name: {registry: %s, key: %s}\n", strconv.Quote(a.regs[0].name), at(ch.named))
			}
		}
	}
	w("applications:\n")
	for _, app := range a.apps {
		w("  %s:\n    supervisor: %s\n", at(app.name), strconv.Quote(app.sup.name.name))
		if app.prepStop != nil {
			w("    prep_stop: %s\n", at(app.prepStop))
		}
	}
	return []byte(b.String())
}

// isGeneratedNew reports whether name is the New function of a supervisor
// of the spec: a start function arbor generates, with no arguments.
func isGeneratedNew(a *advSpec, name string) bool {
	for _, s := range a.sups {
		if IsName(s.name.name) && name == "New"+spec.CamelCase(s.name.name)+"Supervisor" {
			return true
		}
	}
	return false
}

// IsName is spec.IsName, for names the validator has not refused yet.
func IsName(s string) bool { return spec.IsName(s) }

// replace gives a plain name to every name on line; it reports whether one
// was there.
func (a *advSpec) replace(line int) bool {
	found := false
	fix := func(n *advName, prefix string) {
		if n != nil && n.line == line {
			n.name = a.plainName(prefix)
			found = true
		}
	}
	for _, d := range a.deps {
		if d[0].line == line {
			d[0].name, d[1].name = a.plainName("dep"), "int"
			found = true
		}
	}
	for _, r := range a.regs {
		fix(r, "reg")
	}
	for _, s := range a.sups {
		fix(s.name, "sup")
		fix(s.tstart, "NewJob")
		for _, x := range s.extra {
			if x[0].line == line {
				x[0].name, x[1].name = a.plainName("arg"), "string"
				found = true
			}
		}
		for _, ch := range s.children {
			fix(ch.id, "child")
			fix(ch.start, "NewWorker")
			fix(ch.named, "key")
		}
	}
	for _, app := range a.apps {
		fix(app.name, "app")
		fix(app.prepStop, "PrepStop")
	}
	// A ref follows the id it names.
	for _, s := range a.sups {
		for i, ch := range s.children {
			if ch.ref != "" && i > 0 {
				ch.ref = s.children[i-1].id.name
			}
		}
	}
	return found
}

// signature returns the parameters a start function of c takes.
func signature(s *spec.Spec, args []spec.Arg) string {
	params := []string{"ctx stdctx.Context"}
	for i, arg := range args {
		switch arg.Kind {
		case spec.IntArg:
			params = append(params, fmt.Sprintf("a%d int", i))
		case spec.StringArg:
			params = append(params, fmt.Sprintf("a%d string", i))
		case spec.RefArg:
			params = append(params, fmt.Sprintf("a%d *arborrt.Ref[*advW]", i))
		case spec.DepArg:
			params = append(params, fmt.Sprintf("a%d %s", i, s.Dep(arg.Name).Type.Val))
		}
	}
	return strings.Join(params, ", ")
}

// conflicts returns the lines of functions that the spec names with two
// signatures, or as a function and a type: the second use of each.
func (a *advSpec) conflicts(s *spec.Spec) []int {
	seen := map[string]string{}
	var lines []int
	use := func(name, sig string, p spec.Pos) {
		if prev, ok := seen[name]; ok && prev != sig {
			lines = append(lines, p.Line)
			return
		}
		seen[name] = sig
	}
	for _, sup := range s.Supervisors {
		for _, ch := range sup.Children {
			if !ch.Start.Val.IsZero() {
				use(ch.Start.Val.Name, signature(s, ch.Args), ch.Start.Pos)
			}
		}
		if t := sup.Template; t != nil {
			var types []string
			for _, x := range t.ExtraArgs {
				types = append(types, x.Type.String())
				if x.Type.Kind == spec.NamedType {
					use(x.Type.Name, "type", x.Pos)
				}
			}
			use(t.Start.Val.Name, "template "+strings.Join(types, ","), t.Start.Pos)
		}
	}
	for _, d := range s.Deps {
		if t := d.Type.Val; t != nil {
			for t.Kind != spec.NamedType {
				t = t.Elem
			}
			use(t.Name, "type", d.Type.Pos)
		}
	}
	for _, app := range s.Applications {
		if f := app.PrepStop.Val; !f.IsZero() {
			use(f.Name, "callback", app.PrepStop.Pos)
		}
	}
	return lines
}

// userCode declares what the spec names: every start function, prep_stop
// function and extra argument type that arbor does not generate.
func (a *advSpec) userCode(s *spec.Spec) []byte {
	declared := map[string]bool{}
	generated := map[string]bool{}
	for _, sup := range s.Supervisors {
		c := spec.CamelCase(sup.Name)
		generated["New"+c+"Supervisor"], generated[c+"Supervisor"] = true, true
	}
	generated["Deps"] = s.HasDeps()
	var b strings.Builder
	b.WriteString("package adversarial\n\nimport (\n\tstdctx \"context\"\n\n\tarborrt \"github.com/arborgo/arbor/runtime\"\n)\n\n")
	b.WriteString("type advW struct{}\n\nfunc (*advW) Serve(ctx stdctx.Context) error {\n\t<-ctx.Done()\n\treturn nil\n}\n\nvar _ *arborrt.Ref[*advW]\n\n")
	declare := func(name, decl string) {
		if !declared[name] && !generated[name] {
			declared[name] = true
			b.WriteString(decl)
		}
	}
	for _, sup := range s.Supervisors {
		for _, ch := range sup.Children {
			if ch.Start.Val.IsZero() {
				continue
			}
			name := ch.Start.Val.Name
			declare(name, fmt.Sprintf("func %s(%s) (*advW, error) { return &advW{}, nil }\n\n", name, signature(s, ch.Args)))
		}
		if t := sup.Template; t != nil {
			params := []string{"ctx stdctx.Context"}
			for _, x := range t.ExtraArgs {
				params = append(params, "_ "+x.Type.String())
				if x.Type.Kind == spec.NamedType && !spec.IsPredeclared(x.Type.Name) {
					declare(x.Type.Name, fmt.Sprintf("type %s struct{}\n\n", x.Type.Name))
				}
			}
			declare(t.Start.Val.Name, fmt.Sprintf("func %s(%s) (*advW, error) { return &advW{}, nil }\n\n", t.Start.Val.Name, strings.Join(params, ", ")))
		}
	}
	for _, app := range s.Applications {
		if f := app.PrepStop.Val; !f.IsZero() {
			declare(f.Name, fmt.Sprintf("func %s(ctx stdctx.Context) {}\n\n", f.Name))
		}
	}
	for _, d := range s.Deps {
		t := d.Type.Val
		for t.Kind != spec.NamedType {
			t = t.Elem
		}
		if !spec.IsPredeclared(t.Name) {
			declare(t.Name, fmt.Sprintf("type %s struct{}\n\n", t.Name))
		}
	}
	return []byte(b.String())
}

func TestPropertyAdversarialNames(t *testing.T) {
	goCmd, seed, rng, root := propertyRun(t, "adversarial", 0x5bd1e995)
	var pkgs []string
	refused := map[string]bool{}
	for i := range *adversarialSpecs {
		a := newAdvSpec(rng)
		var s *spec.Spec
		var src []byte
		var err error
		for round := 0; ; round++ {
			src = a.yaml()
			s, err = spec.Parse("adversarial.arbor.yaml", src)
			if err == nil {
				lines := a.conflicts(s)
				if len(lines) == 0 {
					break
				}
				for _, l := range lines {
					a.replace(l)
				}
				continue
			}
			list, ok := err.(spec.ErrorList)
			if !ok || round > 100 {
				t.Fatalf("spec %d (seed %d): %v\n%s", i, seed, err, src)
			}
			for _, e := range list {
				if !e.Pos.IsValid() || !a.replace(e.Pos.Line) {
					t.Fatalf("spec %d (seed %d): an error at no name of the spec: %v\n%s", i, seed, e, src)
				}
				refused[strings.SplitN(e.Msg, " ", 2)[0]] = true
			}
		}
		code, err := gen.Generate(s, gen.Options{Source: "adversarial.arbor.yaml"})
		if err != nil {
			t.Fatalf("spec %d (seed %d) validates but does not generate: %v\n%s", i, seed, err, src)
		}
		dir := filepath.Join(root, fmt.Sprintf("s%d", i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "adversarial.arbor.yaml", src)
		writeFile(t, dir, "adversarial_arbor.go", code)
		writeFile(t, dir, "user.go", a.userCode(s))
		pkgs = append(pkgs, "./"+filepath.ToSlash(filepath.Join(filepath.Base(root), filepath.Base(dir))))
	}
	cmd := exec.Command(goCmd, append([]string{"vet"}, pkgs...)...)
	cmd.Dir = "golden"
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("specs that validate do not compile (seed %d): %v\n%s", seed, err, out)
	}
	kinds := slices.Collect(func(yield func(string) bool) {
		for k := range refused {
			if !yield(k) {
				return
			}
		}
	})
	sort.Strings(kinds)
	t.Logf("refused, by the first word of the message: %v", kinds)
}
