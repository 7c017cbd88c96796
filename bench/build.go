package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"
)

// The build item times a whole go build of the code arbor generates from
// specs of four shapes, each beside a hand-written program of the same size
// that calls the runtime directly: the floor of its row. Each build is of a
// module of its own, with the runtime compiled beforehand and the main
// package compiled afresh (a file of it changes before every build), so
// the figure is the compile of the generated package and the link.

// buildShape is a spec shape measured.
type buildShape struct {
	work string // as the table names it
	kind string // workers, chain, apps
	n    int
}

func (s buildShape) key() string { return fmt.Sprintf("build_%s_%d", s.kind, s.n) }

var buildShapes = []buildShape{
	{"1,000 workers", "workers", 1_000},
	{"10,000 workers", "workers", 10_000},
	{"a chain of 1,000 nested supervisors", "chain", 1_000},
	{"1,000 applications", "apps", 1_000},
}

// The suffixes of a build's figures, after the shape's key and the peer
// ("generated" or "floor").
const (
	buildWall = "_wall_ns"
	buildCPU  = "_cpu_ns"    // user and system time of the go command and its children
	buildRSS  = "_rss_bytes" // the largest resident set of the go command or a child: the compiler's
)

// setUpBuild writes a module for each shape and each peer, generates the
// code of the specs, and builds each once, so that only the main package is
// compiled when measured.
func (d *driver) setUpBuild() {
	if d.arborBin == "" {
		d.buildArbor()
	}
	if d.arborBin == "" {
		d.notes["build"] = "skipped: " + d.notes["generate"]
		return
	}
	sum, err := os.ReadFile(filepath.Join(d.root, "go.sum"))
	if err != nil {
		d.notes["build"] = err.Error()
		return
	}
	for _, s := range buildShapes {
		for _, peer := range []string{"generated", "floor"} {
			dir := filepath.Join(d.tmp, "build", s.key(), peer)
			if err := d.writeBuildModule(dir, s, peer, sum); err != nil {
				d.notes["build"] = fmt.Sprintf("%s, %s: %v", s.work, peer, err)
				return
			}
			if _, err := d.goBuild(dir, 0); err != nil {
				d.notes["build"] = fmt.Sprintf("%s, %s: %v", s.work, peer, err)
				return
			}
		}
	}
	d.buildReady = true
}

// writeBuildModule writes the module of one shape and peer into dir.
func (d *driver) writeBuildModule(dir string, s buildShape, peer string, sum []byte) error {
	files := map[string]string{"nonce.go": "package main\n"}
	if peer == "floor" {
		files["main.go"] = floorProgram(s)
	} else {
		files["main.go"] = buildUser + generatedMain[s.kind]
		files["bench.arbor.yaml"] = buildSpec(s)
	}
	if err := d.writeModule(dir, "example.com/build", sum, files); err != nil {
		return err
	}
	if peer == "floor" {
		return nil
	}
	cmd := exec.Command(d.arborBin, "generate", "bench.arbor.yaml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("arbor generate: %v: %s", err, out)
	}
	return nil
}

// buildUser is the user code of the generated programs: the start function
// every child calls.
const buildUser = `package main

import "context"

// X is every worker: it waits to be stopped.
type X struct{ n int }

func (*X) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewX(ctx context.Context, n int) (*X, error) { return &X{n}, nil }

`

// generatedMain starts each generated tree, so that the link keeps it.
var generatedMain = map[string]string{
	"workers": "func main() { _, _ = NewBenchSupervisor(context.Background()) }\n",
	"chain":   "func main() { _, _ = NewS0Supervisor(context.Background()) }\n",
	"apps":    "func main() { _ = Run(context.Background()) }\n",
}

// buildSpec is the spec of a shape.
func buildSpec(s buildShape) string {
	var b strings.Builder
	b.WriteString("version: 1\npackage: main\nsupervisors:\n")
	switch s.kind {
	case "workers":
		b.WriteString("  bench:\n    children:\n")
		for i := range s.n {
			fmt.Fprintf(&b, "      - {id: c%d, start: NewX, args: [%d]}\n", i, i)
		}
	case "chain":
		for i := range s.n {
			if i == s.n-1 {
				fmt.Fprintf(&b, "  s%d:\n    children: [{id: leaf, start: NewX, args: [0]}]\n", i)
			} else {
				fmt.Fprintf(&b, "  s%d:\n    children: [{id: next, supervisor: s%d}]\n", i, i+1)
			}
		}
	case "apps":
		for i := range s.n {
			fmt.Fprintf(&b, "  s%d:\n    children: [{id: w, start: NewX, args: [%d]}]\n", i, i)
		}
		b.WriteString("applications:\n")
		for i := range s.n {
			deps := ""
			if i > 0 {
				deps = fmt.Sprintf(", depends_on: [a%d]", i-1)
			}
			fmt.Fprintf(&b, "  a%d: {supervisor: s%d%s}\n", i, i, deps)
		}
	}
	return b.String()
}

// floorProgram is the hand-written program of a shape: the same children,
// supervisors and applications, each child with a start function of its
// own in a table of child specs, as a careful hand would write them for the
// compiler. It calls the runtime directly.
func floorProgram(s buildShape) string {
	var b strings.Builder
	b.WriteString(`package main

import (
	"context"

	"github.com/arborgo/arbor/runtime"
)

// X is every worker: it waits to be stopped.
type X struct{ n int }

func (*X) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewX(ctx context.Context, n int) (*X, error) { return &X{n}, nil }

`)
	supervisor := func(i int, children string) {
		fmt.Fprintf(&b, "var s%dChildren = [...]runtime.ChildSpec{%s}\n\n", i, children)
		fmt.Fprintf(&b, "func startS%d(ctx context.Context) (runtime.Service, error) {\n"+
			"\treturn runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: \"s%d\", Children: s%dChildren[:]})\n}\n\n", i, i, i)
	}
	switch s.kind {
	case "workers":
		b.WriteString("var children = [...]runtime.ChildSpec{\n")
		for i := range s.n {
			fmt.Fprintf(&b, "\t{ID: \"c%d\", Start: startC%d},\n", i, i)
		}
		b.WriteString("}\n\n")
		for i := range s.n {
			fmt.Fprintf(&b, "func startC%d(ctx context.Context) (runtime.Service, error) { return NewX(ctx, %d) }\n\n", i, i)
		}
		b.WriteString("func main() {\n\t_, _ = runtime.NewSupervisor(context.Background(), runtime.SupervisorSpec{Name: \"bench\", Children: children[:]})\n}\n")
	case "chain":
		for i := range s.n {
			if i == s.n-1 {
				supervisor(i, `{ID: "leaf", Start: startLeaf}`)
			} else {
				supervisor(i, fmt.Sprintf(`{ID: "next", Start: startS%d, Type: runtime.TypeSupervisor}`, i+1))
			}
		}
		b.WriteString("func startLeaf(ctx context.Context) (runtime.Service, error) { return NewX(ctx, 0) }\n\n")
		b.WriteString("func main() { _, _ = startS0(context.Background()) }\n")
	case "apps":
		for i := range s.n {
			supervisor(i, fmt.Sprintf(`{ID: "w", Start: startW%d}`, i))
			fmt.Fprintf(&b, "func startW%d(ctx context.Context) (runtime.Service, error) { return NewX(ctx, %d) }\n\n", i, i)
		}
		b.WriteString("var apps = [...]runtime.ApplicationSpec{\n")
		for i := range s.n {
			deps := ""
			if i > 0 {
				deps = fmt.Sprintf(", DependsOn: []string{\"a%d\"}", i-1)
			}
			fmt.Fprintf(&b, "\t{Name: \"a%d\", StartType: runtime.StartTemporary, Start: startS%d%s},\n", i, i, deps)
		}
		b.WriteString("}\n\nfunc main() { _ = runtime.RunApplications(context.Background(), apps[:]...) }\n")
	}
	return b.String()
}

// goBuild builds the module in dir, after changing its nonce file so that
// the main package is compiled again, and returns the figures of the build.
func (d *driver) goBuild(dir string, nonce int) (results, error) {
	if err := os.WriteFile(filepath.Join(dir, "nonce.go"), fmt.Appendf(nil, "package main\n\n// build %d\n", nonce), 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "program")
	if goruntime.GOOS == "windows" {
		out += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	d.machine.sampleLoad()
	t0 := time.Now()
	output, err := cmd.CombinedOutput()
	wall := time.Since(t0)
	if err != nil {
		return nil, fmt.Errorf("go build: %v: %s", err, output)
	}
	res := results{buildWall: float64(wall.Nanoseconds())}
	st := cmd.ProcessState
	res[buildCPU] = float64((st.UserTime() + st.SystemTime()).Nanoseconds())
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		res[buildRSS] = float64(ru.Maxrss) * 1024 // kilobytes on Linux
	}
	return res, nil
}

// runBuild times one build of each shape and peer.
func (d *driver) runBuild(run int) {
	if !d.buildReady {
		return
	}
	for _, s := range buildShapes {
		res := results{}
		for _, peer := range []string{"generated", "floor"} {
			fmt.Fprintf(d.stderr, "run %d/%d: go build %-38s %-9s", run+1, d.runs, s.work, peer)
			fig, err := d.goBuild(filepath.Join(d.tmp, "build", s.key(), peer), run+1)
			if err != nil {
				fmt.Fprintf(d.stderr, " failed\n")
				d.notes["build"] = err.Error()
				return
			}
			fmt.Fprintf(d.stderr, " %6.2fs\n", fig[buildWall]/1e9)
			for k, v := range fig {
				res[s.key()+"_"+peer+k] = v
			}
		}
		d.put(run, "arbor", res)
	}
}
