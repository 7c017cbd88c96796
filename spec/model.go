package spec

import (
	"strconv"
	"time"
)

// Version is the only version of the spec language.
const Version = 1

// Defaults, Elixir's: 3 restarts in 5 seconds, 5 seconds to stop a worker.
const (
	DefaultMaxRestarts    = 3
	DefaultMaxSeconds     = 5
	DefaultWorkerShutdown = 5 * time.Second
)

// Limits on values the model can hold.
const (
	// MaxIntensity bounds max_restarts, max_seconds and max_children, so
	// that they fit a Go int on every platform.
	MaxIntensity = 1<<31 - 1
	// MaxArgs is the most arguments a start function can be bound to
	// (runtime.Bind0 to runtime.Bind8), counting a template's extra
	// arguments.
	MaxArgs = 8
)

// Value is a value of the spec with the position it was read from. Pos is the
// zero Pos when the value is a default.
type Value[T any] struct {
	Val T
	Pos Pos
}

// Spec is one spec file.
type Spec struct {
	// File is the file name given to Parse.
	File string
	// Pos is the position of the document's root.
	Pos     Pos
	Version Value[int]
	// Package is the Go package of the generated file; Val is "" when the
	// spec names none.
	Package      Value[string]
	Registries   []*Registry
	Supervisors  []*Supervisor
	Applications []*Application
}

// Registry is a registry of unique keys: a runtime.Registry[string].
type Registry struct {
	Name string
	Pos  Pos // of the name
	// Keys is the kind of keys; "unique" is the only kind.
	Keys Value[string]
}

// Strategy is a supervisor's restart strategy, spelt as in OTP.
type Strategy string

// The strategies.
const (
	OneForOne  Strategy = "one_for_one"
	OneForAll  Strategy = "one_for_all"
	RestForOne Strategy = "rest_for_one"
)

// AutoShutdown says when a supervisor stops because significant children
// exited, spelt as in OTP.
type AutoShutdown string

// The auto_shutdown values.
const (
	Never          AutoShutdown = "never"
	AnySignificant AutoShutdown = "any_significant"
	AllSignificant AutoShutdown = "all_significant"
)

// Restart is a child's restart type, or an application's start type.
type Restart string

// The restart types.
const (
	Permanent Restart = "permanent"
	Transient Restart = "transient"
	Temporary Restart = "temporary"
)

// ChildType is worker or supervisor.
type ChildType string

// The child types.
const (
	Worker         ChildType = "worker"
	SupervisorType ChildType = "supervisor"
)

// Infinity is the max_children of a dynamic supervisor with no limit.
const Infinity = -1

// Supervisor is a static supervisor, or a dynamic one when Dynamic.Val.
type Supervisor struct {
	Name         string
	Pos          Pos // of the name
	Dynamic      Value[bool]
	Strategy     Value[Strategy]
	MaxRestarts  Value[int]
	MaxSeconds   Value[int]
	AutoShutdown Value[AutoShutdown]
	// MaxChildren is a dynamic supervisor's limit, Infinity for none.
	MaxChildren Value[int]
	// Children of a static supervisor, in start order.
	Children []*Child
	// ChildrenPos is the position of the children list, zero when absent.
	ChildrenPos Pos
	// Template is the child template of a dynamic supervisor, or nil.
	Template *Template
}

// Child is one child of a static supervisor.
type Child struct {
	Pos Pos // of the list item
	ID  Value[string]
	// Start is the child's start function; its Val is zero when the child
	// is a nested supervisor.
	Start Value[Func]
	// Supervisor names the nested supervisor this child runs; its Val is ""
	// when the child has a start function.
	Supervisor  Value[string]
	Args        []Arg
	Restart     Value[Restart]
	Shutdown    Value[Shutdown]
	Type        Value[ChildType]
	Significant Value[bool]
	// Name registers the child in a registry, or is nil.
	Name *Name
	// Backoff delays the child's restarts, or is nil.
	Backoff *Backoff
}

// Template is how a dynamic supervisor starts its children: every child gets
// Args followed by the extra arguments given to StartChild.
type Template struct {
	Pos         Pos // of the template's mapping
	Start       Value[Func]
	Args        []Arg
	ExtraArgs   []ExtraArg
	Restart     Value[Restart]
	Shutdown    Value[Shutdown]
	Type        Value[ChildType]
	Significant Value[bool]
	Backoff     *Backoff
}

// ExtraArg is one typed parameter of a dynamic supervisor's StartChild.
type ExtraArg struct {
	Pos  Pos
	Name string
	Type *TypeExpr
}

// Name registers a child under Key in the registry Registry.
type Name struct {
	Pos      Pos // of the mapping
	Registry Value[string]
	Key      Value[string]
}

// Backoff delays a child's restarts; see runtime.Backoff.
type Backoff struct {
	Pos    Pos // of the mapping
	Min    Value[time.Duration]
	Max    Value[time.Duration]
	Jitter Value[float64]
}

// ShutdownKind is the kind of a Shutdown.
type ShutdownKind uint8

// The kinds of shutdown.
const (
	ShutdownTimeout  ShutdownKind = iota // cancel, wait up to Timeout
	BrutalKill                           // cancel, do not wait
	ShutdownInfinity                     // cancel, wait however long it takes
)

// Shutdown is how a child is stopped.
type Shutdown struct {
	Kind    ShutdownKind
	Timeout time.Duration // for ShutdownTimeout
}

// String returns the shutdown as the spec spells it.
func (s Shutdown) String() string {
	switch s.Kind {
	case BrutalKill:
		return "brutal_kill"
	case ShutdownInfinity:
		return "infinity"
	}
	return s.Timeout.String()
}

// ArgKind is the kind of an Arg.
type ArgKind uint8

// The kinds of arguments.
const (
	IntArg      ArgKind = iota // an integer literal: Int
	FloatArg                   // a finite floating-point literal: Float
	StringArg                  // a string literal: String
	BoolArg                    // true or false: Bool
	NullArg                    // nil
	RefArg                     // a typed handle to an earlier sibling: Name
	DurationArg                // a time.Duration: Duration
	RegistryArg                // a declared registry: Name
)

// Arg is one argument of a start function, in order after the context.
type Arg struct {
	Pos      Pos
	Kind     ArgKind
	Int      int64
	Float    float64
	String   string
	Bool     bool
	Duration time.Duration
	// Name is the sibling id of a RefArg or the registry of a RegistryArg.
	Name string
}

// Literal returns the argument as the spec spells it, for messages: 123,
// "text", {ref: stash}, {duration: 1s}.
func (a Arg) Literal() string {
	switch a.Kind {
	case IntArg:
		return strconv.FormatInt(a.Int, 10)
	case FloatArg:
		return strconv.FormatFloat(a.Float, 'g', -1, 64)
	case StringArg:
		return strconv.QuoteToASCII(a.String)
	case BoolArg:
		return strconv.FormatBool(a.Bool)
	case NullArg:
		return "null"
	case RefArg:
		return "{ref: " + a.Name + "}"
	case DurationArg:
		return "{duration: " + a.Duration.String() + "}"
	case RegistryArg:
		return "{registry: " + a.Name + "}"
	}
	return "?"
}

// Application is an OTP application: a top supervisor, started after the
// applications it depends on and stopped before them.
type Application struct {
	Name       string
	Pos        Pos // of the name
	Supervisor Value[string]
	StartType  Value[Restart]
	DependsOn  []Value[string]
	// PrepStop and Stop are func(context.Context) callbacks; a zero Val
	// means none.
	PrepStop Value[Func]
	Stop     Value[Func]
}

// Supervisor returns the supervisor called name, or nil.
func (s *Spec) Supervisor(name string) *Supervisor {
	for _, sup := range s.Supervisors {
		if sup.Name == name {
			return sup
		}
	}
	return nil
}
