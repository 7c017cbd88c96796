package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arborgo/arbor/schema"
)

// generated writes a spec into dir and generates its code, as a user would.
func generated(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := write(t, dir, name, content)
	if code, _, stderr := arbor(t, "generate", p); code != exitOK {
		t.Fatalf("generate = %d: %s", code, stderr)
	}
	return p
}

func TestCheckFresh(t *testing.T) {
	dir := t.TempDir()
	p := generated(t, dir, "tree.arbor.yaml", "package: tree\n"+good)
	code, stdout, stderr := arbor(t, "check", p)
	if code != checkFresh || stdout != "" || stderr != "" {
		t.Errorf("check of a fresh file = %d, %q, %q", code, stdout, stderr)
	}
}

func TestCheckStale(t *testing.T) {
	dir := t.TempDir()
	p := generated(t, dir, "tree.arbor.yaml", "package: tree\n"+good)
	write(t, dir, "tree.arbor.yaml", "package: tree\n"+strings.Replace(good, "top:", "top:\n    strategy: one_for_all", 1))
	before, _ := os.ReadFile(filepath.Join(dir, "tree_arbor.go"))
	code, stdout, stderr := arbor(t, "check", p)
	out := filepath.ToSlash(filepath.Join(dir, "tree_arbor.go"))
	for _, want := range []string{
		"--- a/" + out + "\n+++ b/" + out + "\n@@ -",
		"\n-\t\tFlags:    runtime.Flags{Strategy: runtime.OneForOne,",
		"\n+\t\tFlags:    runtime.Flags{Strategy: runtime.OneForAll,",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the diff lacks %q:\n%s", want, stdout)
		}
	}
	if code != checkStale || !strings.Contains(stderr, "tree_arbor.go is stale: run arbor generate") {
		t.Errorf("check of a stale file = %d, %q", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "tree_arbor.go"))
	if string(before) != string(after) {
		t.Error("check changed the generated file")
	}
}

func TestCheckMissing(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "tree.arbor.yaml", "package: tree\n"+good)
	code, stdout, stderr := arbor(t, "check", p)
	if code != checkStale || !strings.HasPrefix(stdout, "--- /dev/null\n+++ b/") || !strings.Contains(stdout, "\n+package tree\n") ||
		!strings.Contains(stderr, "tree_arbor.go is missing") {
		t.Errorf("check of a missing file = %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "tree_arbor.go")); err == nil {
		t.Error("check wrote the generated file")
	}
}

func TestCheckErrors(t *testing.T) {
	dir := t.TempDir()
	fresh := generated(t, dir, "ok.arbor.yaml", "package: ok\n"+good)
	bad := write(t, dir, "bad.arbor.yaml", threeMistakes)
	code, stdout, stderr := arbor(t, "check", fresh, bad)
	if code != checkError || stdout != "" || !strings.HasPrefix(stderr, bad+":4:15: strategy \"sideways\" is invalid") {
		t.Errorf("check with a bad spec = %d, %q, %q", code, stdout, stderr)
	}
	// A stale file and an error: the error wins.
	stale := write(t, dir, "stale.arbor.yaml", "package: stale\n"+good)
	if code, _, _ := arbor(t, "check", stale, bad); code != checkError {
		t.Errorf("check with a stale file and a bad spec = %d, want %d", code, checkError)
	}
	if code, _, stderr := arbor(t, "check", filepath.Join(dir, "nope.arbor.yaml")); code != checkError || !strings.Contains(stderr, "no such file") {
		t.Errorf("check of a missing spec = %d, %q", code, stderr)
	}
	// The generated file's place holds a directory.
	odd := write(t, dir, "odd.arbor.yaml", "package: odd\n"+good)
	if err := os.Mkdir(filepath.Join(dir, "odd_arbor.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := arbor(t, "check", odd); code != checkError || !strings.Contains(stderr, "odd_arbor.go") {
		t.Errorf("check of an unreadable file = %d, %q", code, stderr)
	}
	if code, _, stderr := arbor(t, "check", "-o", "x.go", fresh, stale); code != exitUsage || !strings.Contains(stderr, "-o needs exactly one SPEC") {
		t.Errorf("check -o with two specs = %d, %q", code, stderr)
	}
}

func TestCheckPatterns(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/b", "a/testdata", "a/_skip", "a/.hidden", "a/mod", "c"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(root, "a", "mod"), "go.mod", "module example.com/mod\n")
	for i, d := range []string{"a", "a/b", "a/testdata", "a/_skip", "a/.hidden", "a/mod"} {
		write(t, filepath.Join(root, d), fmt.Sprintf("s%d.arbor.yaml", i), "package: p\n"+good)
	}
	write(t, filepath.Join(root, "a"), "other.yaml", "not a spec")
	t.Chdir(root)

	code, _, stderr := arbor(t, "check", "./a/...")
	want := "a/b/s1_arbor.go is missing: run arbor generate a/b/s1.arbor.yaml (or go generate)\n" +
		"a/s0_arbor.go is missing: run arbor generate a/s0.arbor.yaml (or go generate)\n"
	if code != checkStale || filepath.ToSlash(stderr) != want {
		t.Errorf("check ./a/... = %d, stderr:\n%s\nwant:\n%s", code, stderr, want)
	}
	// A directory is the specs in it, not below it.
	if code, _, stderr := arbor(t, "check", "a"); code != checkStale || strings.Count(stderr, "missing") != 1 {
		t.Errorf("check a = %d, %q", code, stderr)
	}
	if code, _, stderr := arbor(t, "check", "c/..."); code != checkFresh || !strings.Contains(stderr, `warning: "c/..." matched no specs`) {
		t.Errorf("check of no specs = %d, %q", code, stderr)
	}
	// Once generated, every one is fresh.
	if code, _, stderr := arbor(t, "generate", "a/s0.arbor.yaml", "a/b/s1.arbor.yaml"); code != exitOK {
		t.Fatal(stderr)
	}
	if code, stdout, stderr := arbor(t, "check", "./..."); code != checkFresh || stdout != "" || stderr != "" {
		t.Errorf("check ./... after generate = %d, %q, %q", code, stdout, stderr)
	}
}

func TestCheckPackage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOPACKAGE", "")
	p := write(t, dir, "tree.arbor.yaml", good) // no package: key
	// No package anywhere: an error, as for generate.
	if code, _, stderr := arbor(t, "check", p); code != checkError || !strings.Contains(stderr, "no package name") {
		t.Errorf("check without a package = %d, %q", code, stderr)
	}
	// The package of the other Go files beside it.
	write(t, dir, "main.go", "package fromsibling\n")
	write(t, dir, "main_test.go", "package fromsibling_test\n")
	if code, stdout, _ := arbor(t, "check", p); code != checkStale || !strings.Contains(stdout, "+package fromsibling\n") {
		t.Errorf("check beside package fromsibling = %d\n%s", code, stdout)
	}
	// $GOPACKAGE, which go generate sets for the package of the directive,
	// comes after them: the generated file may go to another folder.
	t.Setenv("GOPACKAGE", "fromenv")
	if code, stdout, _ := arbor(t, "check", p); code != checkStale || !strings.Contains(stdout, "+package fromsibling\n") {
		t.Errorf("check with $GOPACKAGE beside package fromsibling = %d\n%s", code, stdout)
	}
	if code, _, stderr := arbor(t, "generate", p); code != exitOK {
		t.Fatal(stderr)
	}
	t.Setenv("GOPACKAGE", "")
	if code, stdout, stderr := arbor(t, "check", p); code != checkFresh {
		t.Errorf("check of a fresh file of package fromsibling = %d\n%s%s", code, stdout, stderr)
	}
	// Without Go files beside it, the generated file's own package, then
	// $GOPACKAGE.
	os.Remove(filepath.Join(dir, "main.go"))
	if code, stdout, stderr := arbor(t, "check", p); code != checkFresh {
		t.Errorf("check of a fresh file of package fromsibling, alone = %d\n%s%s", code, stdout, stderr)
	}
	os.Remove(filepath.Join(dir, "tree_arbor.go"))
	t.Setenv("GOPACKAGE", "fromenv")
	if code, stdout, _ := arbor(t, "check", p); code != checkStale || !strings.Contains(stdout, "+package fromenv\n") {
		t.Errorf("check with $GOPACKAGE alone = %d\n%s", code, stdout)
	}
	// Go files of two packages: an error that names them.
	write(t, dir, "a.go", "package a\n")
	write(t, dir, "b.go", "package b\n")
	write(t, dir, "ignored.go", "//go:build ignore\n\npackage c\n")
	if code, _, stderr := arbor(t, "check", p); code != checkError || !strings.Contains(stderr, "are of several packages, a (a.go), b (b.go); set package: in the spec") {
		t.Errorf("check beside two packages = %d, %q", code, stderr)
	}
}

// TestCheckLarge checks a 3,000-child spec with one change: one hunk.
// (internal/diff's tests diff the code of 10,000 children.)
func TestCheckLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\npackage: big\nsupervisors:\n  big:\n    children:\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "      - {id: c%d, start: NewWorker, args: [%d]}\n", i, i)
	}
	dir := t.TempDir()
	p := generated(t, dir, "big.arbor.yaml", b.String())
	write(t, dir, "big.arbor.yaml", strings.Replace(b.String(), "args: [1500]", "args: [-1500]", 1))
	code, stdout, _ := arbor(t, "check", p)
	if code != checkStale || strings.Count(stdout, "\n@@ ") != 1 || !strings.Contains(stdout, "+\treturn NewWorker(ctx, -1500)") {
		t.Errorf("check = %d, diff of %d bytes:\n%.2000s", code, len(stdout), stdout)
	}
}

func TestGraph(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "tree.arbor.yaml", good)
	code, stdout, stderr := arbor(t, "graph", p)
	if code != exitOK || !strings.HasPrefix(stdout, "flowchart TD\n") || !strings.Contains(stdout, `"supervisor top<br/>`) || stderr != "" {
		t.Errorf("graph = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = arbor(t, "graph", "--format", "dot", p)
	if code != exitOK || !strings.HasPrefix(stdout, "digraph arbor {\n") {
		t.Errorf("graph --format dot = %d\n%s", code, stdout)
	}
	code, stdout, _ = arbor(t, "graph", "--markdown", p)
	if code != exitOK || !strings.HasPrefix(stdout, "```mermaid\nflowchart TD\n") || !strings.HasSuffix(stdout, "\n```\n") {
		t.Errorf("graph --markdown = %d\n%s", code, stdout)
	}
	bad := write(t, dir, "bad.arbor.yaml", threeMistakes)
	code, stdout, stderr = arbor(t, "graph", bad)
	if code != exitFail || stdout != "" || strings.Count(stderr, "\n") != 3 {
		t.Errorf("graph of a bad spec = %d, %q, %q", code, stdout, stderr)
	}
}

func TestSchema(t *testing.T) {
	code, stdout, _ := arbor(t, "schema")
	var doc map[string]any
	if code != exitOK || json.Unmarshal([]byte(stdout), &doc) != nil || stdout != string(schema.JSON()) {
		t.Errorf("schema = %d, %.200s", code, stdout)
	}
}
