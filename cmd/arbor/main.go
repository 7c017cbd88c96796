package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/spec"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // a spec has errors, or a file could not be read or written
	exitUsage = 2
)

// modulePath is arbor's module, for its version in the build info.
const modulePath = "github.com/arborgo/arbor"

// command is one verb of the CLI.
type command struct {
	name  string
	args  string // the arguments, for the usage line
	short string // one line for the top-level usage
	long  string // the rest of the verb's help
	flags func(fs *pflag.FlagSet) any
	run   func(c *command, opts any, args []string, stdout, stderr io.Writer) int
}

// commands lists the verbs in the order the usage shows them.
func commands() []*command {
	return []*command{
		{
			name:  "generate",
			args:  "[-o file] SPEC...",
			short: "validate specs and write the Go code generated from them",
			long: `Generate validates each SPEC and writes its generated Go code beside it:
x.arbor.yaml (or x.yaml) gives x_arbor.go in the same directory. The file is
written atomically, and only when its content changes; for a spec with errors,
generate prints them and writes nothing, so an existing file stays as it was.

The package of the generated file is the spec's package: key, else the
$GOPACKAGE that go generate sets:

	//go:generate go run github.com/arborgo/arbor/cmd/arbor generate x.arbor.yaml
`,
			flags: func(fs *pflag.FlagSet) any {
				return fs.StringP("output", "o", "", "write the generated code to `file` (with one SPEC only)")
			},
			run: runGenerate,
		},
		{
			name:  "validate",
			args:  "SPEC...",
			short: "check specs and print every error",
			long: `Validate checks each SPEC and prints every error it finds, one per line as
file:line:col: message, sorted by position. It exits 1 when a spec has errors.
`,
			run: runValidate,
		},
		{
			name:  "version",
			short: "print arbor's version",
			long:  "Version prints the version of arbor, from its build information.\n",
			run:   runVersion,
		},
	}
}

const topUsage = `arbor turns a YAML spec of an Erlang/OTP-style supervision tree into typed Go.

Usage:

	arbor <command> [arguments]

Commands:

%s
Run "arbor <command> --help" for the usage of a command.
`

func printTopUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "\t%-10s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, topUsage, b.String())
}

// run is arbor's main, apart from the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printTopUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if name == "help" && len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				c.usage(stdout)
				return exitOK
			}
			fmt.Fprintf(stderr, "arbor help: unknown command %q\n", args[1])
			return exitUsage
		}
		printTopUsage(stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "arbor: unknown command %q\n", name)
		fmt.Fprintln(stderr, `Run "arbor --help" for usage.`)
		return exitUsage
	}
	fs := pflag.NewFlagSet("arbor "+c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var opts any
	if c.flags != nil {
		opts = c.flags(fs)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			c.usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "arbor %s: %v\n", c.name, err)
		fmt.Fprintf(stderr, "Run \"arbor %s --help\" for usage.\n", c.name)
		return exitUsage
	}
	return c.run(c, opts, fs.Args(), stdout, stderr)
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usage prints the help of c, with its flags.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: arbor %s", c.name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintf(w, "\n\n%s", c.long)
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	if c.flags != nil {
		c.flags(fs)
	}
	fs.BoolP("help", "h", false, "show this help")
	fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
}

func (c *command) usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "arbor %s: %s\n", c.name, msg)
	fmt.Fprintf(stderr, "Run \"arbor %s --help\" for usage.\n", c.name)
	return exitUsage
}

// load reads and parses one spec; on failure it prints why and returns nil.
func load(path string, stderr io.Writer) *spec.Spec {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "arbor: %v\n", err)
		return nil
	}
	s, err := spec.Parse(path, src)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil
	}
	return s
}

func runValidate(c *command, _ any, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return c.usageError(stderr, "no SPEC given")
	}
	status := exitOK
	for _, path := range args {
		if load(path, stderr) == nil {
			status = exitFail
		}
	}
	return status
}

func runGenerate(c *command, opts any, args []string, stdout, stderr io.Writer) int {
	output := *opts.(*string)
	if len(args) == 0 {
		return c.usageError(stderr, "no SPEC given")
	}
	if output != "" && len(args) > 1 {
		return c.usageError(stderr, "-o needs exactly one SPEC")
	}
	status := exitOK
	for _, path := range args {
		out := output
		if out == "" {
			out = gen.OutputPath(path)
		}
		if err := generate(path, out, os.Getenv("GOPACKAGE"), stderr); err != nil {
			status = exitFail
		}
	}
	return status
}

// errReported marks a failure that has been printed already.
var errReported = errors.New("reported")

// generate writes the code of the spec at path to out.
func generate(path, out, pkg string, stderr io.Writer) error {
	s := load(path, stderr)
	if s == nil {
		return errReported
	}
	source, err := relSource(path, out)
	if err != nil {
		fmt.Fprintf(stderr, "arbor: %v\n", err)
		return err
	}
	code, err := gen.Generate(s, gen.Options{Package: pkg, Source: source})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", s.Pos, err)
		return err
	}
	if err := writeFile(out, code); err != nil {
		fmt.Fprintf(stderr, "arbor: %v\n", err)
		return err
	}
	return nil
}

// relSource returns the spec's path relative to the directory of the
// generated file, with forward slashes, for the generated file's header.
func relSource(spec, out string) (string, error) {
	absSpec, err := filepath.Abs(spec)
	if err != nil {
		return "", err
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(filepath.Dir(absOut), absSpec)
	if err != nil {
		return filepath.ToSlash(absSpec), nil
	}
	return filepath.ToSlash(rel), nil
}

// writeFile replaces path with data atomically: it writes a temporary file
// in the same directory and renames it over path. It leaves an existing file
// with the same content untouched.
func writeFile(path string, data []byte) (err error) {
	mode := os.FileMode(0o644)
	if info, err := os.Stat(path); err == nil {
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		mode = info.Mode().Perm()
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return nil
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func runVersion(c *command, _ any, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		return c.usageError(stderr, "version takes no arguments")
	}
	fmt.Fprintf(stdout, "arbor %s\n", version())
	return exitOK
}

// version returns arbor's module version from the build information: the
// main module's when arbor is built from its own module, else that of the
// dependency (as under go run from another module).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := ""
	if bi.Main.Path == modulePath {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			v = d.Version
			if d.Replace != nil {
				v += " => " + d.Replace.Path
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "(devel)"
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
	}
	return v
}
