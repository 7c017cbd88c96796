package cluster

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// Keys and arguments of keyed children travel through etcd, so they are
// encoded:
//
//   - a key K is a string, integer or bool type (written as is, or in
//     decimal), or a type whose value implements encoding.TextMarshaler and
//     whose pointer implements encoding.TextUnmarshaler; the key is the last
//     part of an etcd key, so it must not be empty.
//   - arguments A are JSON (encoding/json). A type is encodable when every
//     value of it survives the trip: booleans, numbers (not complex),
//     strings, and slices, arrays, pointers, maps (with string, integer or
//     TextMarshaler keys) and structs whose fields are all exported, of
//     encodable types; or any type that implements both json.Marshaler and
//     json.Unmarshaler (time.Time, for one). Channels, functions, complex
//     numbers, unsafe pointers, interfaces and unexported struct fields are
//     refused: they would not arrive, or would arrive as something else.
//
// NewSupervisor checks both types and says which part is not encodable.

// keyCodec returns the encoding of K.
func keyCodec[K comparable]() (func(K) string, func(string) (K, error), error) {
	t := reflect.TypeFor[K]()
	if t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) && reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		enc := func(k K) string {
			b, _ := any(k).(encoding.TextMarshaler).MarshalText()
			return string(b)
		}
		dec := func(s string) (K, error) {
			var k K
			err := any(&k).(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
			return k, err
		}
		return enc, dec, nil
	}
	switch t.Kind() {
	case reflect.String:
		return func(k K) string { return reflect.ValueOf(k).String() },
			func(s string) (K, error) {
				var k K
				reflect.ValueOf(&k).Elem().SetString(s)
				return k, nil
			}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(k K) string { return strconv.FormatInt(reflect.ValueOf(k).Int(), 10) },
			func(s string) (K, error) {
				var k K
				v, err := strconv.ParseInt(s, 10, t.Bits())
				reflect.ValueOf(&k).Elem().SetInt(v)
				return k, err
			}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(k K) string { return strconv.FormatUint(reflect.ValueOf(k).Uint(), 10) },
			func(s string) (K, error) {
				var k K
				v, err := strconv.ParseUint(s, 10, t.Bits())
				reflect.ValueOf(&k).Elem().SetUint(v)
				return k, err
			}, nil
	case reflect.Bool:
		return func(k K) string { return strconv.FormatBool(reflect.ValueOf(k).Bool()) },
			func(s string) (K, error) {
				var k K
				v, err := strconv.ParseBool(s)
				reflect.ValueOf(&k).Elem().SetBool(v)
				return k, err
			}, nil
	}
	return nil, nil, fmt.Errorf("key type %v cannot be a cluster key: use a string, integer or bool type, or one that implements encoding.TextMarshaler and encoding.TextUnmarshaler", t)
}

// CheckArgs reports whether values of type t survive encoding as a keyed
// child's arguments (see the rules above), and if not, which part of t does
// not. The spec validator can apply the same rule to declared types.
func CheckArgs(t reflect.Type) error {
	return checkEncodable(t, t.String(), map[reflect.Type]bool{})
}

func checkEncodable(t reflect.Type, path string, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	if t.Implements(reflect.TypeFor[json.Marshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Marshaler]()) {
		if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
			return nil
		}
	}
	bad := func(why string) error {
		return fmt.Errorf("%s (%v) is not encodable: %s", path, t, why)
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return nil
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return checkEncodable(t.Elem(), path+"[]", seen)
	case reflect.Map:
		k := t.Key()
		switch k.Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if !k.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
				return bad("a map key must be a string, an integer or an encoding.TextMarshaler")
			}
		}
		return checkEncodable(t.Elem(), path+"[key]", seen)
	case reflect.Struct:
		for f := range t.Fields() {
			if !f.IsExported() {
				return bad(fmt.Sprintf("field %s is unexported, so it would not reach the other node", f.Name))
			}
			if f.Tag.Get("json") == "-" {
				return bad(fmt.Sprintf("field %s is tagged json:\"-\", so it would not reach the other node", f.Name))
			}
			if err := checkEncodable(f.Type, path+"."+f.Name, seen); err != nil {
				return err
			}
		}
		return nil
	case reflect.Interface:
		return bad("an interface does not say what to decode it into")
	case reflect.Complex64, reflect.Complex128:
		return bad("JSON has no complex numbers")
	}
	return bad(t.Kind().String() + " values cannot leave the process")
}
