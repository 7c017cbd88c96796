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
	Package Value[string]
	// Deps are the values the program gives the tree, in the order of the
	// file: the parameters of the generated NewDeps.
	Deps         []*Dep
	Registries   []*Registry
	Supervisors  []*Supervisor
	Applications []*Application
	// Cluster is the spec's cluster section, or nil when it has none: the
	// cluster of etcd that the program's replicas join, on which its
	// distributed applications and cluster supervisors run. Only a spec
	// with one generates code that imports the cluster module.
	Cluster *Cluster
}

// Values of a cluster section and of cluster supervisors, as the cluster
// module (github.com/arborgo/arbor/cluster) has them.
const (
	// DefaultClusterTTL is the TTL of a node's lease when the spec gives
	// none: cluster.DefaultTTL.
	DefaultClusterTTL = 10 * time.Second
	// MinClusterTTL is etcd's smallest lease TTL with its default ticks
	// (1.5 election timeouts of 1s, rounded up to whole seconds): etcd
	// raises a smaller one to it.
	MinClusterTTL = 2 * time.Second
	// MaxClusterTTL is etcd's largest lease TTL (MaxLeaseTTL).
	MaxClusterTTL = 9_000_000_000 * time.Second
	// DefaultMaxMoves and DefaultMoveBackoff are a cluster supervisor's
	// max_moves and move_backoff when the spec gives none:
	// cluster.DefaultMaxMoves and cluster.DefaultMoveBackoff.
	DefaultMaxMoves    = 3
	DefaultMoveBackoff = time.Second
)

// Cluster is the cluster section of a spec: the name of the cluster, the
// TTL of each node's lease and OTP's mandatory nodes. Where etcd is (its
// endpoints) and which node this process is come from the program, never
// from the spec, so that one program runs against any etcd.
type Cluster struct {
	Pos Pos // of its mapping
	// Name names the cluster: its keys live under /arbor/<name>/ in etcd.
	Name Value[string]
	// TTL is the TTL of each node's lease, whole seconds;
	// DefaultClusterTTL when the spec gives none.
	TTL Value[time.Duration]
	// SyncNodesMandatory are the nodes that must be up before the program
	// starts its applications, OTP's sync_nodes_mandatory.
	SyncNodesMandatory []Value[string]
	// SyncNodesTimeout bounds the wait for them, OTP's sync_nodes_timeout;
	// InfiniteWait, the default, waits as long as the program's context
	// allows (a model built in Go may leave it zero for that).
	SyncNodesTimeout Value[time.Duration]
}

// InfiniteWait is the SyncNodesTimeout of infinity.
const InfiniteWait time.Duration = -1

// Dep is a dependency of the tree: a value of a Go type that the program
// gives the generated NewDeps, and that arguments pass on with {dep: name}.
type Dep struct {
	Name string
	Pos  Pos // of the name
	// Type is the dependency's Go type; its Val is nil when the spec gives
	// none, or none that parses.
	Type Value[*TypeExpr]
}

// The kinds of keys of a registry, spelt as Elixir's Registry spells them.
const (
	UniqueKeys    = "unique"
	DuplicateKeys = "duplicate"
)

// The ways a duplicate registry chooses an entry's partition.
const (
	PartitionByProcess = "process"
	PartitionByKey     = "key"
)

// Registry is a registry of the spec: a runtime.UniqueRegistry or
// runtime.DuplicateRegistry, made by the generated NewDeps.
type Registry struct {
	Name string
	Pos  Pos // of the name
	// Keys is the kind of keys: UniqueKeys (the default) or DuplicateKeys.
	Keys Value[string]
	// Key is the Go type of the keys; a nil Val means string.
	Key Value[*TypeExpr]
	// Value is the Go type of the value each entry holds; a nil Val means
	// none (struct{}).
	Value Value[*TypeExpr]
	// PubSub, on a duplicate registry, makes its entries subscriptions to
	// messages of this Go type: the value type is then
	// runtime.Subscriber[PubSub]. A nil Val means none.
	PubSub Value[*TypeExpr]
	// Partitions is the number of partitions; 0 means one.
	Partitions Value[int]
	// PartitionBy is how a duplicate registry partitions its entries:
	// PartitionByProcess (the default, "") or PartitionByKey.
	PartitionBy Value[string]
	// Meta is the registry's initial metadata, in the order of the file.
	Meta []*Meta
	// Listeners are the children told of every registration and
	// unregistration: each a child id, or "supervisor/id".
	Listeners []Value[string]
}

// IsDuplicate reports whether r has duplicate keys.
func (r *Registry) IsDuplicate() bool { return r.Keys.Val == DuplicateKeys }

// Meta is one entry of a registry's metadata: a string key and a literal.
type Meta struct {
	Key   string
	Pos   Pos // of the key
	Value Arg
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
	// Cluster is set, with Dynamic, on a cluster supervisor (dynamic:
	// cluster): a dynamic supervisor and registry of keyed children, each
	// of which runs on exactly one live node of the spec's cluster.
	Cluster bool
	// Key is the Go type of a cluster supervisor's keys; a nil Val means
	// string.
	Key Value[*TypeExpr]
	// MaxMoves bounds how often a cluster supervisor's child is moved to
	// another node after exhausting its restart intensity before it is
	// marked failed; DefaultMaxMoves when the spec gives none.
	MaxMoves Value[int]
	// MoveBackoff is how long a moved child waits before another node
	// starts it, doubled at each move; DefaultMoveBackoff when the spec
	// gives none.
	MoveBackoff Value[time.Duration]
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
	Pos Pos // of the template's mapping
	// ID is the pattern of the id of each child, from the extra arguments
	// (see ParseIDPattern); its Val is "" when the spec gives none, and
	// the children then have no id.
	ID          Value[string]
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

// Name registers a child under Key in the registry Registry, with Value.
type Name struct {
	Pos      Pos // of the mapping
	Registry Value[string]
	// Key is the key, a literal; nil when the spec gives none.
	Key *Arg
	// Value is the value of the child's entry, or nil for none.
	Value *Arg
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
	IntArg        ArgKind = iota // an integer literal: Int
	FloatArg                     // a finite floating-point literal: Float
	StringArg                    // a string literal: String
	BoolArg                      // true or false: Bool
	NullArg                      // nil
	RefArg                       // a typed handle to an earlier sibling: Name
	DurationArg                  // a time.Duration: Duration
	RegistryArg                  // a declared registry: Name
	DepArg                       // a declared dependency: Name
	SupervisorArg                // a cluster supervisor of the spec: Name
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
	// Name is the sibling id of a RefArg, the registry of a RegistryArg,
	// the dependency of a DepArg or the supervisor of a SupervisorArg.
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
	case DepArg:
		return "{dep: " + a.Name + "}"
	case SupervisorArg:
		return "{supervisor: " + a.Name + "}"
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
	// PrepStop and Stop are callbacks, called with a context and then
	// PrepStopArgs and StopArgs; a zero Val means none.
	PrepStop     Value[Func]
	PrepStopArgs []Arg
	Stop         Value[Func]
	StopArgs     []Arg
	// Distributed makes the application run on exactly one node of the
	// spec's cluster at a time, or is nil.
	Distributed *Distributed
}

// Distributed is a distributed application's entry, OTP's kernel
// distributed: the priority list of its nodes, how long to wait before it
// fails over, whether a node of higher priority takes it back.
type Distributed struct {
	Pos Pos // of the mapping
	// Nodes is the priority list: groups of equals, best first; OTP's
	// [a, {b, c}] is [[a], [b, c]].
	Nodes    [][]Value[string]
	NodesPos Pos // of the list; zero when the spec gives none
	// FailoverDelay is how long to wait after the application's node went
	// down before it starts elsewhere, OTP's Timeout.
	FailoverDelay Value[time.Duration]
	// Takeover makes a node of higher priority that comes up take the
	// application back, as OTP does; true when the spec says nothing.
	Takeover Value[bool]
	// Handoff is called on the old node during a takeover, with a context
	// and then HandoffArgs, and what it returns reaches the new node's
	// start; a zero Val means none.
	Handoff     Value[Func]
	HandoffArgs []Arg
}

// Registry returns the registry called name, or nil.
func (s *Spec) Registry(name string) *Registry {
	for _, r := range s.Registries {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Dep returns the dependency called name, or nil.
func (s *Spec) Dep(name string) *Dep {
	for _, d := range s.Deps {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// HasDeps reports whether the generated code has a Deps value: whether the
// spec declares dependencies or registries, or has a cluster section (Deps
// then holds the node and the cluster supervisors).
func (s *Spec) HasDeps() bool { return len(s.Deps) > 0 || len(s.Registries) > 0 || s.Cluster != nil }

// ClusterArgs returns the name of the type that generated code declares for
// the extra arguments of cluster supervisor sup: its name camel-cased and
// Args.
func ClusterArgs(sup string) string { return CamelCase(sup) + "Args" }

// Supervisor returns the supervisor called name, or nil.
func (s *Spec) Supervisor(name string) *Supervisor {
	for _, sup := range s.Supervisors {
		if sup.Name == name {
			return sup
		}
	}
	return nil
}
