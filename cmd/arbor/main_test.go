package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/gen"
)

// arbor runs the CLI and returns its exit status and output.
func arbor(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

const good = `version: 1
supervisors:
  top:
    children:
      - {id: w, start: NewW}
`

// threeMistakes has three errors, found by different stages (a flag, a
// child value, a reference) but reported in file order.
const threeMistakes = `version: 1
supervisors:
  top:
    strategy: sideways
    children:
      - {id: w, start: NewW, restart: sometimes}
      - {id: v, start: NewV, args: [{ref: nope}]}
`

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, exitUsage, "", "Usage:"},
		{[]string{"--help"}, exitOK, "Commands:", ""},
		{[]string{"-h"}, exitOK, "Commands:", ""},
		{[]string{"help"}, exitOK, "Commands:", ""},
		{[]string{"help", "validate"}, exitOK, "Usage: arbor validate", ""},
		{[]string{"help", "nope"}, exitUsage, "", "unknown command"},
		{[]string{"generate", "--help"}, exitOK, "Usage: arbor generate", ""},
		{[]string{"validate", "-h"}, exitOK, "Usage: arbor validate", ""},
		{[]string{"version", "--help"}, exitOK, "Usage: arbor version", ""},
		{[]string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{[]string{"generate"}, exitUsage, "", "no SPEC given"},
		{[]string{"validate"}, exitUsage, "", "no SPEC given"},
		{[]string{"generate", "--bogus", "x.yaml"}, exitUsage, "", "unknown flag: --bogus"},
		{[]string{"generate", "-o", "out.go", "a.yaml", "b.yaml"}, exitUsage, "", "-o needs exactly one SPEC"},
		{[]string{"version", "extra"}, exitUsage, "", "takes no arguments"},
		{[]string{"check", "--help"}, exitOK, "Usage: arbor check", ""},
		{[]string{"graph", "-h"}, exitOK, "Usage: arbor graph", ""},
		{[]string{"schema", "--help"}, exitOK, "Usage: arbor schema", ""},
		{[]string{"help", "check"}, exitOK, "Exit status: 0 when every generated file is up to date", ""},
		{[]string{"check"}, exitUsage, "", "no SPEC given"},
		{[]string{"graph"}, exitUsage, "", "graph takes exactly one SPEC"},
		{[]string{"graph", "a.yaml", "b.yaml"}, exitUsage, "", "graph takes exactly one SPEC"},
		{[]string{"graph", "--format", "svg", "a.yaml"}, exitUsage, "", `unknown format "svg"; allowed: mermaid, dot`},
		{[]string{"schema", "extra"}, exitUsage, "", "takes no arguments"},
	} {
		code, stdout, stderr := arbor(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("arbor %q = %d\nstdout: %s\nstderr: %s\nwant %d, stdout with %q, stderr with %q",
				tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := arbor(t, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "arbor ") {
		t.Errorf("version = %d, %q", code, stdout)
	}
}

// generate --help names every form of SPEC that generate reads, and what
// each gives; each form gives what the help says.
func TestGenerateHelpNamesEveryInput(t *testing.T) {
	_, stdout, _ := arbor(t, "generate", "--help")
	help := strings.Join(strings.Fields(stdout), " ")
	for _, form := range []string{"x.arbor.yaml, x.arbor.yml, x.yaml or x.yml gives x_arbor.go", "x.conf, gives x.conf_arbor.go", "A pipe or a device (/dev/stdin) is read too, with -o"} {
		if !strings.Contains(help, form) {
			t.Errorf("generate --help does not say %q:\n%s", form, stdout)
		}
	}
	for spec, out := range map[string]string{"x.arbor.yaml": "x_arbor.go", "x.arbor.yml": "x_arbor.go", "x.yaml": "x_arbor.go", "x.yml": "x_arbor.go", "x.conf": "x.conf_arbor.go"} {
		if got := gen.OutputPath(spec); got != out {
			t.Errorf("OutputPath(%s) = %s, as the help does not say; want %s", spec, got, out)
		}
	}
}

// versionOf says what the build information knows, in each way the go
// command builds arbor.
func TestVersionOf(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "ff1eb2d0a6110abfda631925d9d98553708cf28d"
	for _, tc := range []struct {
		what string
		bi   debug.BuildInfo
		want string
	}{
		{"a release", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.2.0"}}, "v1.2.0"},
		{"a clone, built with its commit", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v0.0.0-20261130015923-ff1eb2d0a611"}, Settings: vcs(rev, "false")},
			"v0.0.0-20261130015923-ff1eb2d0a611 (commit ff1eb2d0a611)"},
		{"a clone with changes", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v0.0.0-20261130015923-ff1eb2d0a611+dirty"}, Settings: vcs(rev, "true")},
			"v0.0.0-20261130015923-ff1eb2d0a611+dirty (commit ff1eb2d0a611, modified)"},
		{"a clone, -buildvcs=false", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, "(devel)"},
		{"go tool with a replace", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v0.0.0", Replace: &debug.Module{Path: "../arbor", Version: "(devel)"}}},
			"v0.0.0 (replaced by ../arbor)"},
		{"a dependency", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"}, Deps: []*debug.Module{{Path: modulePath, Version: "v1.3.0"}}, Settings: vcs(rev, "false")},
			"v1.3.0"},
	} {
		if got := versionOf(&tc.bi); got != tc.want {
			t.Errorf("%s: versionOf = %q, want %q", tc.what, got, tc.want)
		}
	}
}

// Built from a checkout, as a user of a clone builds it, arbor version
// names the checkout's commit.
func TestVersionFromAClone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds arbor; skipped with -short")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	if fi, err := os.Stat("../../.git"); err != nil || !fi.IsDir() {
		// A worktree's .git is a file, which the go command does not
		// take for a checkout: it records no commit.
		t.Skip("not the main checkout of a clone (a git worktree?)")
	}
	bin := filepath.Join(t.TempDir(), "arbor")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "(commit " + string(head[:12]); !strings.HasPrefix(string(out), "arbor v") || !strings.Contains(string(out), want) {
		t.Errorf("arbor version = %q; want a version and %s", out, want)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	ok := write(t, dir, "ok.arbor.yaml", good)
	bad := write(t, dir, "bad.arbor.yaml", threeMistakes)

	code, stdout, stderr := arbor(t, "validate", ok)
	if code != exitOK || stdout != "" || stderr != "" {
		t.Errorf("validate of a good spec = %d, %q, %q", code, stdout, stderr)
	}

	code, _, stderr = arbor(t, "validate", ok, bad)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	want := []string{bad + ":4:15: ", bad + ":6:39: ", bad + ":7:43: "}
	if code != exitFail || len(lines) != len(want) {
		t.Fatalf("validate = %d, want %d, and %d lines:\n%s", code, exitFail, len(want), stderr)
	}
	for i, prefix := range want {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want the prefix %q", i+1, lines[i], prefix)
		}
	}

	code, _, stderr = arbor(t, "validate", filepath.Join(dir, "missing.yaml"))
	if code != exitFail || !strings.Contains(stderr, "missing.yaml") {
		t.Errorf("validate of a missing file = %d, %q", code, stderr)
	}
}

func TestGenerateWritesBesideTheSpec(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "tree.arbor.yaml", "package: tree\n"+good)
	if code, _, stderr := arbor(t, "generate", p); code != exitOK {
		t.Fatalf("generate = %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "tree_arbor.go")
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(first, []byte("// Code generated by arbor. DO NOT EDIT.\n// Source: tree.arbor.yaml\n\npackage tree\n")) {
		t.Errorf("unexpected header:\n%s", first)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("generate left %d files in the directory, want 2", len(entries))
	}

	// Generating again gives the same bytes and leaves the file alone.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(out, old, old); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := arbor(t, "generate", p); code != exitOK {
		t.Fatalf("second generate = %d: %s", code, stderr)
	}
	second, _ := os.ReadFile(out)
	info, _ := os.Stat(out)
	if !bytes.Equal(first, second) || !info.ModTime().Equal(old) {
		t.Errorf("second generate changed the file (equal bytes: %v, mtime %v, want %v)", bytes.Equal(first, second), info.ModTime(), old)
	}
}

func TestGenerateLeavesAGoodFileWhenTheSpecIsBad(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "tree.arbor.yaml", "package: tree\n"+good)
	if code, _, stderr := arbor(t, "generate", p); code != exitOK {
		t.Fatalf("generate = %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "tree_arbor.go")
	before, _ := os.ReadFile(out)

	write(t, dir, "tree.arbor.yaml", threeMistakes)
	code, stdout, stderr := arbor(t, "generate", p)
	if code != exitFail || stdout != "" || strings.Count(stderr, "\n") != 3 {
		t.Errorf("generate of a bad spec = %d, %q, %q; want 1 and three lines", code, stdout, stderr)
	}
	after, _ := os.ReadFile(out)
	if !bytes.Equal(before, after) {
		t.Error("a bad spec changed the generated file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("generate left %d files in the directory, want 2", len(entries))
	}
}

func TestGenerateOutputAndPackage(t *testing.T) {
	dir := t.TempDir()
	specs := filepath.Join(dir, "specs")
	if err := os.Mkdir(specs, 0o755); err != nil {
		t.Fatal(err)
	}
	p := write(t, specs, "tree.yaml", good)

	t.Setenv("GOPACKAGE", "")
	code, _, stderr := arbor(t, "generate", p)
	if code != exitFail || !strings.Contains(stderr, "no package name") || !strings.HasPrefix(stderr, p+":") {
		t.Errorf("generate without a package = %d, %q", code, stderr)
	}

	t.Setenv("GOPACKAGE", "fromenv")
	out := filepath.Join(dir, "gen", "out.go")
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := arbor(t, "generate", "-o", out, p); code != exitOK {
		t.Fatalf("generate -o = %d: %s", code, stderr)
	}
	src, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte("// Source: ../specs/tree.yaml\n\npackage fromenv\n")) {
		t.Errorf("unexpected header:\n%.200s", src)
	}
}

func TestGenerateSeveralSpecs(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.arbor.yaml", "package: p\n"+good)
	b := write(t, dir, "b.arbor.yaml", threeMistakes)
	c := write(t, dir, "c.arbor.yaml", "package: p\n"+strings.ReplaceAll(good, "top", "other"))
	if code, _, _ := arbor(t, "generate", a, b, c); code != exitFail {
		t.Errorf("generate with one bad spec = %d, want %d", code, exitFail)
	}
	for name, want := range map[string]bool{"a_arbor.go": true, "b_arbor.go": false, "c_arbor.go": true} {
		_, err := os.Stat(filepath.Join(dir, name))
		if (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", name, err == nil, want)
		}
	}
}
