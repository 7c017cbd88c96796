package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/gocheck"
	"github.com/arborgo/arbor/graph"
	"github.com/arborgo/arbor/schema"
	"github.com/arborgo/arbor/spec"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses. check has its own: 0 fresh, 1 stale, 2 any error.
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
			name:  "check",
			args:  "[-o file] SPEC|DIR|PATTERN...",
			short: "check that generated files are up to date, printing a diff when not",
			long: `Check regenerates the code of each spec in memory and compares it with the
file generate would write (x_arbor.go beside x.arbor.yaml, or -o with one
SPEC). It writes nothing. For a file that is stale or missing, it prints a
unified diff to standard output, from the file on disk to what generate would
write, so that CI shows what changed:

	go run github.com/arborgo/arbor/cmd/arbor check ./...

A DIR checks the *.arbor.yaml (and *.arbor.yml) files in it; a PATTERN
ending in /... checks those below it too, as the go command walks packages:
it skips testdata, directories whose name starts with . or _, and other
modules (directories with their own go.mod).

The package of the generated code is the spec's package: key, else that of
the existing generated file, else $GOPACKAGE, else that of the other Go
files beside it.

Exit status: 0 when every generated file is up to date, 1 when one is stale
or missing, 2 on an error (a spec with errors, printed as file:line:col:
message; a file that cannot be read; a wrong command line).
`,
			flags: func(fs *pflag.FlagSet) any {
				return fs.StringP("output", "o", "", "compare with `file` (with one SPEC only)")
			},
			run: runCheck,
		},
		{
			name:  "graph",
			args:  "[--format mermaid|dot] [--markdown] SPEC",
			short: "draw a spec's supervision tree as Mermaid or Graphviz DOT",
			long: `Graph prints a drawing of the supervision tree of SPEC: applications and
their dependencies, supervisors with their strategy and intensity, children
in start order with their restart and shutdown, dynamic supervisors and their
templates.

The default format, mermaid, is a Mermaid flowchart: paste it into
mermaid.live, or into Markdown inside a mermaid code block, which GitHub
renders (--markdown adds the block around it). The dot format is for
Graphviz:

	arbor graph --format dot tree.arbor.yaml | dot -Tsvg -o tree.svg

It exits 1 when the spec has errors, which it prints as validate does.
`,
			flags: func(fs *pflag.FlagSet) any {
				o := &graphOptions{}
				fs.StringVarP(&o.format, "format", "f", "mermaid", "the `format`: mermaid or dot")
				fs.BoolVar(&o.markdown, "markdown", false, "wrap the drawing in a Markdown code block")
				return o
			},
			run: runGraph,
		},
		{
			name:  "schema",
			short: "print the JSON Schema of the spec language, for editors",
			long: `Schema prints the JSON Schema (draft-07) of the spec language. Editors with
yaml-language-server (VS Code's YAML extension, Neovim, Helix, JetBrains)
use it to complete keys and values, show their documentation and mark
mistakes as you type:

	arbor schema > arbor.schema.json

and, at the top of a spec:

	# yaml-language-server: $schema=arbor.schema.json

docs/cli.md has the editor settings that apply it to every *.arbor.yaml.
The schema checks the shape of a spec; arbor validate checks the rest.
`,
			run: runSchema,
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
	if pkg == "" {
		pkg = s.Package.Val
	}
	if s.Package.Val != "" {
		pkg = s.Package.Val
	}
	mistakes, err := gocheck.Check(context.Background(), s, gocheck.Options{Dir: filepath.Dir(out), Output: out, Package: pkg})
	if err != nil {
		fmt.Fprintf(stderr, "arbor: warning: %v\n", err)
	}
	if mistakes != nil {
		fmt.Fprintln(stderr, mistakes)
		return errReported
	}
	if err := writeFile(osFS{}, out, code); err != nil {
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

type graphOptions struct {
	format   string
	markdown bool
}

func runGraph(c *command, opts any, args []string, stdout, stderr io.Writer) int {
	o := opts.(*graphOptions)
	if len(args) != 1 {
		return c.usageError(stderr, "graph takes exactly one SPEC")
	}
	format := graph.Format(o.format)
	if !slices.Contains(graph.Formats(), format) {
		return c.usageError(stderr, fmt.Sprintf("unknown format %q; allowed: mermaid, dot", o.format))
	}
	s := load(args[0], stderr)
	if s == nil {
		return exitFail
	}
	out, err := graph.Draw(s, format)
	if err != nil {
		fmt.Fprintf(stderr, "arbor: %v\n", err)
		return exitFail
	}
	if o.markdown {
		fmt.Fprintf(stdout, "```%s\n%s```\n", format, out)
		return exitOK
	}
	stdout.Write(out)
	return exitOK
}

func runSchema(c *command, _ any, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		return c.usageError(stderr, "schema takes no arguments")
	}
	stdout.Write(schema.JSON())
	return exitOK
}
