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

// setUpGenerate builds cmd/arbor once and writes the specs.
func (d *driver) setUpGenerate() {
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
	d.specs = map[int]string{}
	for _, n := range specSizes {
		dir := filepath.Join(d.tmp, fmt.Sprintf("gen%d", n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			d.notes["generate"] = err.Error()
			return
		}
		path := filepath.Join(dir, "bench.arbor.yaml")
		if err := os.WriteFile(path, []byte(bigSpec(n)), 0o644); err != nil {
			d.notes["generate"] = err.Error()
			return
		}
		d.specs[n] = path
	}
	d.arborBin = bin
}

// bigSpec is a spec of one supervisor with n children, each started by
// the same function with its own argument.
func bigSpec(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d children, for timing arbor generate.\nversion: 1\nsupervisors:\n  bench:\n    children:\n", n)
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
		spec := d.specs[n]
		out := strings.TrimSuffix(spec, ".arbor.yaml") + "_arbor.go"
		os.Remove(out) // so that every run writes it
		cmd := exec.Command(d.arborBin, "generate", spec)
		cmd.Env = append(os.Environ(), "GOPACKAGE=bench")
		fmt.Fprintf(d.stderr, "run %d/%d: generate %-6d  ", run+1, d.runs, n)
		t0 := time.Now()
		outb, err := cmd.CombinedOutput()
		elapsed := time.Since(t0)
		fmt.Fprintf(d.stderr, " %6.2fs\n", elapsed.Seconds())
		if err != nil {
			d.notes["generate"] = fmt.Sprintf("arbor generate failed: %v: %s", err, outb)
			fmt.Fprintln(d.stderr, "bench:", d.notes["generate"])
			return
		}
		if _, err := os.Stat(out); err != nil {
			d.notes["generate"] = "arbor generate wrote no " + out
			return
		}
		res[fmt.Sprintf("%s_%d", keyGenerate, n)] = float64(elapsed.Nanoseconds())
	}
	d.put(run, "arbor", res)
}
