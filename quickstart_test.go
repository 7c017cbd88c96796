package arbor_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestQuickstart follows the README's quickstart as a new user would, in a
// brand-new module outside the repository and offline: the README's
// tree.arbor.yaml and main.go, its "from a clone" commands (with this
// checkout standing in for the clone), go generate, go build; then it runs
// the program until it ticks and stops it with SIGINT, which must stop it
// gracefully. The README is read as it is, so the quickstart cannot break
// without this test failing.
func TestQuickstart(t *testing.T) {
	if goruntime.GOOS == "windows" {
		t.Skip("the program is stopped with SIGINT")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	spec := quickstartBlock(t, readme, "tree.arbor.yaml")
	mainGo := quickstartBlock(t, readme, "main.go")
	clone := quickstartBlock(t, readme, "clone")

	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if err := os.Mkdir(app, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = app, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("go", "mod", "init", "example.com/app")
	for name, content := range map[string]string{"tree.arbor.yaml": spec, "main.go": mainGo} {
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(clone), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "git clone "); ok {
			// Offline, this checkout is the clone.
			fields := strings.Fields(rest)
			target := filepath.Join(app, fields[len(fields)-1])
			if err := os.Symlink(repo, target); err != nil {
				t.Fatal(err)
			}
			continue
		}
		run("sh", "-c", line)
	}
	run("go", "generate", "./...")
	if _, err := os.Stat(filepath.Join(app, "tree_arbor.go")); err != nil {
		t.Fatalf("go generate wrote no tree_arbor.go: %v", err)
	}
	run("go", "build", "-o", "app", ".")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(app, "app"))
	cmd.Dir, cmd.Env = app, env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	ticked := false
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "tick ") {
			ticked = true
			break
		}
	}
	if !ticked {
		cmd.Wait()
		t.Fatalf("the program never ticked; stderr:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // the ticks until it stops
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT the program exited with %v; stderr:\n%s", err, stderr.String())
	}
}

// quickstartBlock returns the fenced code block that follows the README's
// marker <!-- quickstart:name -->, without its indentation.
func quickstartBlock(t *testing.T, readme []byte, name string) string {
	t.Helper()
	marker := "<!-- quickstart:" + name + " -->"
	_, after, ok := strings.Cut(string(readme), marker)
	if !ok {
		t.Fatalf("README.md has no %s", marker)
	}
	lines := strings.Split(after, "\n")
	var out []string
	indent, inBlock := "", false
	for _, line := range lines[1:] {
		trimmed := strings.TrimLeft(line, " ")
		if strings.HasPrefix(trimmed, "```") {
			if inBlock {
				return strings.Join(out, "\n") + "\n"
			}
			inBlock = true
			indent = line[:len(line)-len(trimmed)]
			continue
		}
		if inBlock {
			out = append(out, strings.TrimPrefix(line, indent))
		}
	}
	t.Fatalf("README.md: the block after %s does not end", marker)
	return ""
}
