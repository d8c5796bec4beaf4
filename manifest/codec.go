package manifest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// The model cache (cache.go) stores compose-go's typed model as it is in
// memory, field by field, so that what comes back is the same value: nil and
// empty told apart, pointers to zero values kept, every number its own
// type. encoding/gob drops zero values behind pointers (a read_only: false
// would come back unset) and JSON loses number types, so this is a small
// binary codec over reflection instead. It refuses what it cannot restore
// (an unexported field that is set, a channel, a value of a type behind an
// interface it does not know), and the cache then keeps nothing.

// errUncodable: the value holds something the codec cannot restore.
var errUncodable = errors.New("value the model cache cannot store")

// interfaceTypes are the types a value behind an interface may have: what
// YAML decodes into (compose-go's x-* extensions) and what interpolation
// casts strings to. The index is the encoding.
var interfaceTypes = []reflect.Type{
	reflect.TypeFor[map[string]any](), reflect.TypeFor[[]any](), reflect.TypeFor[string](),
	reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int64](),
	reflect.TypeFor[uint64](), reflect.TypeFor[float64](), reflect.TypeFor[float32](),
}

func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(b, v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float())), nil
	case reflect.String:
		b = binary.AppendUvarint(b, uint64(v.Len()))
		return append(b, v.String()...), nil
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0), nil
		}
		return appendValue(append(b, 1), v.Elem())
	case reflect.Slice, reflect.Map:
		if v.IsNil() {
			return append(b, 0), nil
		}
		b = binary.AppendUvarint(b, uint64(v.Len())+1)
		if v.Kind() == reflect.Map {
			return appendMap(b, v)
		}
		return appendElems(b, v)
	case reflect.Array:
		return appendElems(b, v)
	case reflect.Struct:
		return appendStruct(b, v)
	case reflect.Interface:
		if v.IsNil() {
			return append(b, 0), nil
		}
		e := v.Elem()
		for i, t := range interfaceTypes {
			if e.Type() == t {
				return appendValue(binary.AppendUvarint(b, uint64(i)+1), e)
			}
		}
		return nil, fmt.Errorf("%w: a %s behind an interface", errUncodable, e.Type())
	default:
		return nil, fmt.Errorf("%w: a %s", errUncodable, v.Type())
	}
}

func appendElems(b []byte, v reflect.Value) ([]byte, error) {
	var err error
	for i := range v.Len() {
		if b, err = appendValue(b, v.Index(i)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendMap(b []byte, v reflect.Value) ([]byte, error) {
	var err error
	for it := v.MapRange(); it.Next(); {
		if b, err = appendValue(b, it.Key()); err != nil {
			return nil, err
		}
		if b, err = appendValue(b, it.Value()); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendStruct(b []byte, v reflect.Value) ([]byte, error) {
	var err error
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			if !f.IsZero() {
				return nil, fmt.Errorf("%w: %s.%s is set", errUncodable, v.Type(), v.Type().Field(i).Name)
			}
			continue // zero, as decoding leaves it
		}
		if b, err = appendValue(b, f); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// decoder reads what appendValue wrote into values of the same types.
type decoder struct {
	b   []byte
	err error
}

var errCorrupt = errors.New("corrupt model cache entry")

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	n, size := binary.Uvarint(d.b)
	if size <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[size:]
	return n
}

// length checks a length against what is left: every element takes at
// least a byte, so a corrupt length cannot make a huge allocation.
func (d *decoder) length(n uint64) int {
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

// count reads the length of a slice or map; false for a nil one.
func (d *decoder) count() (int, bool) {
	n := d.uvarint()
	if n == 0 {
		return 0, false
	}
	return d.length(n - 1), true
}

func (d *decoder) value(v reflect.Value) {
	if d.err != nil {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(d.uvarint() == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, size := binary.Varint(d.b)
		if size <= 0 {
			d.fail()
			return
		}
		d.b = d.b[size:]
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(d.uvarint())
	case reflect.Float32, reflect.Float64:
		if len(d.b) < 8 {
			d.fail()
			return
		}
		v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(d.b)))
		d.b = d.b[8:]
	case reflect.String:
		n := d.length(d.uvarint())
		v.SetString(string(d.b[:n]))
		d.b = d.b[n:]
	case reflect.Pointer:
		if d.uvarint() == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.value(p.Elem())
		v.Set(p)
	case reflect.Slice:
		l, ok := d.count()
		if !ok {
			return
		}
		s := reflect.MakeSlice(v.Type(), l, l)
		for i := range l {
			d.value(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		l, ok := d.count()
		if !ok {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), l)
		for range l {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			d.value(k)
			d.value(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Array:
		for i := range v.Len() {
			d.value(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				d.value(v.Field(i))
			}
		}
	case reflect.Interface:
		i := d.uvarint()
		if i == 0 {
			return
		}
		if i > uint64(len(interfaceTypes)) {
			d.fail()
			return
		}
		e := reflect.New(interfaceTypes[i-1]).Elem()
		d.value(e)
		v.Set(e)
	default:
		d.fail()
	}
}

// encodeValue and decodeValue store *ptr and restore it.
func encodeValue[T any](b []byte, ptr *T) ([]byte, error) {
	return appendValue(b, reflect.ValueOf(ptr).Elem())
}

func decodeValue[T any](b []byte, ptr *T) ([]byte, error) {
	d := &decoder{b: b}
	d.value(reflect.ValueOf(ptr).Elem())
	return d.b, d.err
}
