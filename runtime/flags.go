package runtime

import "fmt"

// Strategy is a supervisor's restart strategy. The zero value is OneForOne.
type Strategy uint8

const (
	// OneForOne restarts only the child that exited.
	OneForOne Strategy = iota
	// OneForAll stops all other children, then restarts them all.
	OneForAll
	// RestForOne stops the children started after the one that exited, then
	// restarts it and them, in start order.
	RestForOne
)

// String returns OTP's name for s.
func (s Strategy) String() string {
	switch s {
	case OneForOne:
		return "one_for_one"
	case OneForAll:
		return "one_for_all"
	case RestForOne:
		return "rest_for_one"
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// AutoShutdown says when a supervisor stops by itself because significant
// children exited. The zero value is Never.
type AutoShutdown uint8

const (
	// Never: significant children are not allowed.
	Never AutoShutdown = iota
	// AnySignificant: the supervisor stops when any significant child exits
	// by itself without being restarted.
	AnySignificant
	// AllSignificant: the supervisor stops when the last running significant
	// child exits by itself without being restarted.
	AllSignificant
)

// String returns OTP's name for a.
func (a AutoShutdown) String() string {
	switch a {
	case Never:
		return "never"
	case AnySignificant:
		return "any_significant"
	case AllSignificant:
		return "all_significant"
	}
	return fmt.Sprintf("AutoShutdown(%d)", uint8(a))
}

// Default restart intensity, Elixir's: 3 restarts in 5 seconds.
const (
	DefaultMaxRestarts = 3
	DefaultMaxSeconds  = 5
)

// Flags are OTP's supervisor flags.
//
// The zero Flags are the defaults: one_for_one, 3 restarts in 5 seconds,
// auto_shutdown never. A MaxSeconds of 0 stands for the default 5, and when
// MaxRestarts is 0 too, for the default 3 restarts as well; to allow no
// restart at all, set MaxRestarts 0 with a MaxSeconds above 0.
type Flags struct {
	Strategy Strategy
	// MaxRestarts and MaxSeconds are OTP's intensity and period: more than
	// MaxRestarts restarts within MaxSeconds seconds make the supervisor give
	// up. MaxRestarts must be ≥ 0 and MaxSeconds > 0.
	MaxRestarts  int
	MaxSeconds   int
	AutoShutdown AutoShutdown
}

// withDefaults fills in the defaults described on Flags.
func (f Flags) withDefaults() Flags {
	if f.MaxSeconds == 0 {
		f.MaxSeconds = DefaultMaxSeconds
		if f.MaxRestarts == 0 {
			f.MaxRestarts = DefaultMaxRestarts
		}
	}
	return f
}

// SupervisorSpec describes a static supervisor: OTP's init result.
type SupervisorSpec struct {
	// Name identifies the supervisor in reports and introspection.
	Name string
	Flags
	// Children in start order; they stop in the reverse order.
	Children []ChildSpec
}
