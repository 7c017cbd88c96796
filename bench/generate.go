package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// specSizes are the children of the generated specs that arbor generate is
// timed on.
var specSizes = []int{1_000, 10_000}

// buildArbor builds cmd/arbor once, for the generate and build items.
func (d *driver) buildArbor() {
	if _, err := os.Stat(filepath.Join(d.root, "cmd", "arbor")); err != nil {
		d.notes["generate"] = "skipped: there is no cmd/arbor in " + d.root
		return
	}
	bin := filepath.Join(d.tmp, "arbor")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/arbor")
	cmd.Dir = d.root
	if out, err := cmd.CombinedOutput(); err != nil {
		d.notes["generate"] = fmt.Sprintf("skipped: building cmd/arbor: %v: %s", err, out)
		fmt.Fprintln(d.stderr, "bench:", d.notes["generate"])
		return
	}
	d.arborBin = bin
}

// setUpGenerate builds cmd/arbor once and writes the specs, each in a module
// with the start function it names, so that generate checks the spec
// against the Go code as it does for a user.
func (d *driver) setUpGenerate() {
	d.buildArbor()
	if d.arborBin == "" {
		return
	}
	sum, err := os.ReadFile(filepath.Join(d.root, "go.sum"))
	if err != nil {
		d.notes["generate"] = err.Error()
		return
	}
	d.specs = map[int]string{}
	for _, n := range specSizes {
		dir := filepath.Join(d.tmp, fmt.Sprintf("gen%d", n))
		if err := d.writeModule(dir, "example.com/gen", sum, map[string]string{"bench.arbor.yaml": bigSpec(n), "worker.go": generateUser}); err != nil {
			d.notes["generate"] = err.Error()
			return
		}
		d.specs[n] = filepath.Join(dir, "bench.arbor.yaml")
	}
}

// writeModule writes a module named path into dir: a go.mod that requires
// arbor from d.root, arbor's go.sum (sum), and files, by name.
func (d *driver) writeModule(dir, path string, sum []byte, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mod := fmt.Sprintf("module %s\n\ngo 1.26\n\nrequire github.com/arborgo/arbor v0.0.0\n\nreplace github.com/arborgo/arbor => %s\n", path, d.root)
	files["go.mod"], files["go.sum"] = mod, string(sum)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generateUser is the Go code beside the generated specs.
const generateUser = `package bench

import "context"

// Worker is every child of the specs.
type Worker struct{}

func (*Worker) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewWorker(ctx context.Context, n int) (*Worker, error) { return &Worker{}, nil }
`

// bigSpec is a spec of one supervisor with n children, each started by
// the same function with its own argument.
func bigSpec(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d children, for timing arbor generate.\nversion: 1\npackage: bench\nsupervisors:\n  bench:\n    children:\n", n)
	for i := range n {
		fmt.Fprintf(&b, "      - id: c%d\n        start: NewWorker\n        args: [%d]\n", i, i)
	}
	return b.String()
}

// runGenerate times one whole arbor generate process on each spec.
func (d *driver) runGenerate(run int) {
	if d.arborBin == "" {
		return
	}
	res := results{}
	// The floor: a whole process that only starts and prints.
	t0 := time.Now()
	if out, err := exec.Command(d.arborBin, "version").CombinedOutput(); err != nil {
		d.notes["generate"] = fmt.Sprintf("arbor version failed: %v: %s", err, out)
		return
	}
	res[keyGenerate+"_0"] = float64(time.Since(t0).Nanoseconds())
	for _, n := range specSizes {
		for _, check := range []bool{true, false} {
			spec := d.specs[n]
			out := strings.TrimSuffix(spec, ".arbor.yaml") + "_arbor.go"
			os.Remove(out) // so that every run writes it
			args := []string{"generate", "bench.arbor.yaml"}
			key := fmt.Sprintf("%s_%d", keyGenerate, n)
			if !check {
				args = append(args, "--typecheck=false")
				key += noCheck
			}
			cmd := exec.Command(d.arborBin, args...)
			cmd.Dir = filepath.Dir(spec)
			cmd.Env = append(os.Environ(), "GOWORK=off")
			fmt.Fprintf(d.stderr, "run %d/%d: generate %-6d %-5v", run+1, d.runs, n, check)
			d.machine.sampleLoad()
			t0 := time.Now()
			outb, err := cmd.CombinedOutput()
			elapsed := time.Since(t0)
			fmt.Fprintf(d.stderr, " %6.2fs\n", elapsed.Seconds())
			if err != nil || len(outb) > 0 {
				d.notes["generate"] = fmt.Sprintf("arbor generate: %v: %s", err, outb)
				fmt.Fprintln(d.stderr, "bench:", d.notes["generate"])
				return
			}
			if _, err := os.Stat(out); err != nil {
				d.notes["generate"] = "arbor generate wrote no " + out
				return
			}
			res[key] = float64(elapsed.Nanoseconds())
		}
	}
	d.put(run, "arbor", res)
}

// noCheck ends the key of a generate run with --typecheck=false.
const noCheck = "_nocheck"
