package torchpickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// This file is the pickle machine: a stack machine that runs the opcodes of Python's pickle
// protocol 2 (plus the few protocol 4 ones a torch.save with pickle_protocol=4 emits) that a state
// dict needs, and nothing else. It never calls anything by name: GLOBAL only looks a name up in
// the caller's allow-list, and REDUCE, BUILD and BINPERSID hand their operands to the caller's
// hooks, which decide what (if anything) the operation means.

// Pickle opcodes. Only the ones the machine runs are named here; opNames (below) names the rest
// for error messages.
const (
	opMark            = '('
	opStop            = '.'
	opBinint          = 'J'
	opBinint1         = 'K'
	opBinint2         = 'M'
	opNone            = 'N'
	opBinpersid       = 'Q'
	opReduce          = 'R'
	opBinunicode      = 'X'
	opAppend          = 'a'
	opBuild           = 'b'
	opGlobal          = 'c'
	opEmptyDict       = '}'
	opAppends         = 'e'
	opBinget          = 'h'
	opLongBinget      = 'j'
	opEmptyList       = ']'
	opBinput          = 'q'
	opLongBinput      = 'r'
	opSetitem         = 's'
	opTuple           = 't'
	opEmptyTuple      = ')'
	opSetitems        = 'u'
	opBinfloat        = 'G'
	opProto           = 0x80
	opTuple1          = 0x85
	opTuple2          = 0x86
	opTuple3          = 0x87
	opNewtrue         = 0x88
	opNewfalse        = 0x89
	opLong1           = 0x8a
	opShortBinunicode = 0x8c
	opStackGlobal     = 0x93
	opMemoize         = 0x94
	opFrame           = 0x95
)

// opNames names every opcode of pickle protocols 0-5, so that an unsupported one is reported by
// name ("unsupported opcode INST") rather than as a bare byte.
var opNames = map[byte]string{
	'(': "MARK", '.': "STOP", '0': "POP", '1': "POP_MARK", '2': "DUP", 'F': "FLOAT", 'I': "INT",
	'J': "BININT", 'K': "BININT1", 'L': "LONG", 'M': "BININT2", 'N': "NONE", 'P': "PERSID",
	'Q': "BINPERSID", 'R': "REDUCE", 'S': "STRING", 'T': "BINSTRING", 'U': "SHORT_BINSTRING",
	'V': "UNICODE", 'X': "BINUNICODE", 'a': "APPEND", 'b': "BUILD", 'c': "GLOBAL", 'd': "DICT",
	'}': "EMPTY_DICT", 'e': "APPENDS", 'g': "GET", 'h': "BINGET", 'i': "INST", 'j': "LONG_BINGET",
	'l': "LIST", ']': "EMPTY_LIST", 'o': "OBJ", 'p': "PUT", 'q': "BINPUT", 'r': "LONG_BINPUT",
	's': "SETITEM", 't': "TUPLE", ')': "EMPTY_TUPLE", 'u': "SETITEMS", 'G': "BINFLOAT",
	'B': "BINBYTES", 'C': "SHORT_BINBYTES",
	0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1",
	0x86: "TUPLE2", 0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8a: "LONG1", 0x8b: "LONG4",
	0x8c: "SHORT_BINUNICODE", 0x8d: "BINUNICODE8", 0x8e: "BINBYTES8", 0x8f: "EMPTY_SET",
	0x90: "ADDITEMS", 0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE",
	0x95: "FRAME", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}

// opName returns the name of opcode op for messages.
func opName(op byte) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", op)
}

// The Python values the machine builds. Integers are int64, floats float64, strings string,
// booleans bool and None nil; containers are these types, pointers where Python would mutate them
// in place (a memoized list or dict must see later APPENDs and SETITEMs).
type (
	pyTuple []any
	pyList  struct{ items []any }
	// pyDict keeps insertion order, as Python's dict and OrderedDict do, so that a state dict's
	// order survives. Only string keys occur in a state dict and its metadata.
	pyDict struct {
		keys []string
		vals map[string]any
	}
)

func newDict() *pyDict { return &pyDict{vals: map[string]any{}} }

// typeName names a value's Python type for messages.
func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%T", v)
}

// hooks give meaning to the opcodes that reach outside the pickle. Each returns an error for
// anything it does not recognise; the machine has no default behaviour for them.
type hooks struct {
	global         func(module, name string) (any, error) // GLOBAL, STACK_GLOBAL
	persistentLoad func(pid any) (any, error)             // BINPERSID
	reduce         func(callable any, args pyTuple) (any, error)
	build          func(obj, state any) error
}

// machine is one run of the pickle machine over data.
type machine struct {
	data  []byte
	pos   int // offset of the next byte to read
	stack []any
	marks []int // stack heights at each open MARK
	memo  map[uint32]any
	h     hooks
}

// unpickle runs the pickle in data and returns the value it leaves. Every malformed, truncated or
// unsupported input is an error that names the byte offset and opcode where it was found.
func unpickle(data []byte, h hooks) (any, error) {
	m := &machine{data: data, memo: map[uint32]any{}, h: h}
	for {
		at := m.pos
		if at >= len(data) {
			return nil, fmt.Errorf("pickle truncated at byte %d: no STOP opcode", at)
		}
		op := data[at]
		m.pos++
		done, err := m.step(op)
		if err != nil {
			return nil, fmt.Errorf("pickle byte %d (opcode %s): %w", at, opName(op), err)
		}
		if done {
			if len(m.marks) != 0 || len(m.stack) != 1 {
				return nil, fmt.Errorf("pickle byte %d: STOP with %d values and %d open marks on the stack, want one value", at, len(m.stack), len(m.marks))
			}
			return m.stack[0], nil
		}
	}
}

// errTruncated reports an opcode whose operand runs past the end of the data.
var errTruncated = fmt.Errorf("truncated pickle: operand runs past the end of the data")

// read consumes n bytes of operand.
func (m *machine) read(n int) ([]byte, error) {
	if n < 0 || n > len(m.data)-m.pos {
		return nil, errTruncated
	}
	b := m.data[m.pos : m.pos+n]
	m.pos += n
	return b, nil
}

// readLine consumes bytes up to and including the next newline and returns them without it.
func (m *machine) readLine() (string, error) {
	for i := m.pos; i < len(m.data); i++ {
		if m.data[i] == '\n' {
			s := string(m.data[m.pos:i])
			m.pos = i + 1
			return s, nil
		}
	}
	return "", errTruncated
}

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

// base is the lowest stack index the current opcode may touch: values below the last MARK
// belong to an enclosing construction.
func (m *machine) base() int {
	if len(m.marks) == 0 {
		return 0
	}
	return m.marks[len(m.marks)-1]
}

func (m *machine) pop() (any, error) {
	if len(m.stack) <= m.base() {
		return nil, fmt.Errorf("stack underflow")
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) <= m.base() {
		return nil, fmt.Errorf("stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark removes and returns the values pushed since the last MARK, and the MARK itself.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, fmt.Errorf("no MARK on the stack")
	}
	b := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := append([]any(nil), m.stack[b:]...)
	m.stack = m.stack[:b]
	return items, nil
}

// popN removes and returns the top n values.
func (m *machine) popN(n int) ([]any, error) {
	if len(m.stack)-m.base() < n {
		return nil, fmt.Errorf("stack underflow")
	}
	items := append([]any(nil), m.stack[len(m.stack)-n:]...)
	m.stack = m.stack[:len(m.stack)-n]
	return items, nil
}

// setItems adds key-value pairs (kv alternates keys and values) to the dict below them.
func (m *machine) setItems(kv []any) error {
	if len(kv)%2 != 0 {
		return fmt.Errorf("odd number of values (%d) for key-value pairs", len(kv))
	}
	target, err := m.top()
	if err != nil {
		return err
	}
	d, ok := target.(*pyDict)
	if !ok {
		return fmt.Errorf("setting items on a %s, want a dict", typeName(target))
	}
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return fmt.Errorf("dict key is a %s; only str keys are supported", typeName(kv[i]))
		}
		// Python would keep the last value; a writer never repeats a key, so a repeat is a
		// corrupt or crafted file in which two tensors would claim one name.
		if _, dup := d.vals[k]; dup {
			return fmt.Errorf("dict key %q is set twice", k)
		}
		d.keys = append(d.keys, k)
		d.vals[k] = kv[i+1]
	}
	return nil
}

// appendItems adds items to the list below them.
func (m *machine) appendItems(items []any) error {
	target, err := m.top()
	if err != nil {
		return err
	}
	l, ok := target.(*pyList)
	if !ok {
		return fmt.Errorf("appending to a %s, want a list", typeName(target))
	}
	l.items = append(l.items, items...)
	return nil
}

// put memoizes the top of the stack under key.
func (m *machine) put(key uint32) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	m.memo[key] = v
	return nil
}

// get pushes the value memoized under key.
func (m *machine) get(key uint32) error {
	v, ok := m.memo[key]
	if !ok {
		return fmt.Errorf("memo key %d was never stored", key)
	}
	m.push(v)
	return nil
}

// unicode decodes a string operand, which pickle writes as UTF-8.
func unicode(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", fmt.Errorf("string is not valid UTF-8")
	}
	return string(b), nil
}

// step runs one opcode (already consumed) and reports whether it was STOP.
func (m *machine) step(op byte) (bool, error) {
	switch op {
	case opProto:
		b, err := m.read(1)
		if err != nil {
			return false, err
		}
		if b[0] > 5 {
			return false, fmt.Errorf("pickle protocol %d is newer than any Python writes (5)", b[0])
		}
	case opFrame:
		// Protocol 4 groups opcodes into frames for buffered reading; the data is all in memory,
		// so the frame header only needs to be plausible.
		b, err := m.read(8)
		if err != nil {
			return false, err
		}
		if n := binary.LittleEndian.Uint64(b); n > uint64(len(m.data)-m.pos) {
			return false, fmt.Errorf("frame of %d bytes runs past the end of the data", n)
		}
	case opStop:
		return true, nil

	case opMark:
		m.marks = append(m.marks, len(m.stack))
	case opEmptyDict:
		m.push(newDict())
	case opEmptyList:
		m.push(&pyList{})
	case opEmptyTuple:
		m.push(pyTuple{})
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		m.push(pyTuple(items))
	case opTuple1, opTuple2, opTuple3:
		items, err := m.popN(int(op-opTuple1) + 1)
		if err != nil {
			return false, err
		}
		m.push(pyTuple(items))

	case opNone:
		m.push(nil)
	case opNewtrue:
		m.push(true)
	case opNewfalse:
		m.push(false)
	case opBinint:
		b, err := m.read(4)
		if err != nil {
			return false, err
		}
		m.push(int64(int32(binary.LittleEndian.Uint32(b))))
	case opBinint1:
		b, err := m.read(1)
		if err != nil {
			return false, err
		}
		m.push(int64(b[0]))
	case opBinint2:
		b, err := m.read(2)
		if err != nil {
			return false, err
		}
		m.push(int64(binary.LittleEndian.Uint16(b)))
	case opLong1:
		n, err := m.read(1)
		if err != nil {
			return false, err
		}
		b, err := m.read(int(n[0]))
		if err != nil {
			return false, err
		}
		v, err := decodeLong(b)
		if err != nil {
			return false, err
		}
		m.push(v)
	case opBinfloat:
		b, err := m.read(8)
		if err != nil {
			return false, err
		}
		m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opBinunicode, opShortBinunicode:
		var n int
		if op == opBinunicode {
			b, err := m.read(4)
			if err != nil {
				return false, err
			}
			u := binary.LittleEndian.Uint32(b)
			if u > uint32(len(m.data)-m.pos) { // compare before converting: int may be 32 bits
				return false, errTruncated
			}
			n = int(u)
		} else {
			b, err := m.read(1)
			if err != nil {
				return false, err
			}
			n = int(b[0])
		}
		b, err := m.read(n)
		if err != nil {
			return false, err
		}
		s, err := unicode(b)
		if err != nil {
			return false, err
		}
		m.push(s)

	case opGlobal:
		module, err := m.readLine()
		if err != nil {
			return false, err
		}
		name, err := m.readLine()
		if err != nil {
			return false, err
		}
		v, err := m.h.global(module, name)
		if err != nil {
			return false, err
		}
		m.push(v)
	case opStackGlobal:
		items, err := m.popN(2)
		if err != nil {
			return false, err
		}
		module, ok1 := items[0].(string)
		name, ok2 := items[1].(string)
		if !ok1 || !ok2 {
			return false, fmt.Errorf("module and name are %s and %s, want two str", typeName(items[0]), typeName(items[1]))
		}
		v, err := m.h.global(module, name)
		if err != nil {
			return false, err
		}
		m.push(v)
	case opBinpersid:
		pid, err := m.pop()
		if err != nil {
			return false, err
		}
		v, err := m.h.persistentLoad(pid)
		if err != nil {
			return false, err
		}
		m.push(v)
	case opReduce:
		items, err := m.popN(2)
		if err != nil {
			return false, err
		}
		args, ok := items[1].(pyTuple)
		if !ok {
			return false, fmt.Errorf("arguments are a %s, want a tuple", typeName(items[1]))
		}
		v, err := m.h.reduce(items[0], args)
		if err != nil {
			return false, err
		}
		m.push(v)
	case opBuild:
		state, err := m.pop()
		if err != nil {
			return false, err
		}
		obj, err := m.top()
		if err != nil {
			return false, err
		}
		if err := m.h.build(obj, state); err != nil {
			return false, err
		}

	case opSetitem:
		kv, err := m.popN(2)
		if err != nil {
			return false, err
		}
		if err := m.setItems(kv); err != nil {
			return false, err
		}
	case opSetitems:
		kv, err := m.popMark()
		if err != nil {
			return false, err
		}
		if err := m.setItems(kv); err != nil {
			return false, err
		}
	case opAppend:
		v, err := m.pop()
		if err != nil {
			return false, err
		}
		if err := m.appendItems([]any{v}); err != nil {
			return false, err
		}
	case opAppends:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		if err := m.appendItems(items); err != nil {
			return false, err
		}

	case opBinput:
		b, err := m.read(1)
		if err != nil {
			return false, err
		}
		return false, m.put(uint32(b[0]))
	case opLongBinput:
		b, err := m.read(4)
		if err != nil {
			return false, err
		}
		return false, m.put(binary.LittleEndian.Uint32(b))
	case opMemoize:
		// Python numbers MEMOIZE entries by the memo's size. The size cannot wrap: every entry
		// costs a byte of the (bounded) pickle.
		return false, m.put(uint32(len(m.memo)))
	case opBinget:
		b, err := m.read(1)
		if err != nil {
			return false, err
		}
		return false, m.get(uint32(b[0]))
	case opLongBinget:
		b, err := m.read(4)
		if err != nil {
			return false, err
		}
		return false, m.get(binary.LittleEndian.Uint32(b))

	default:
		return false, fmt.Errorf("unsupported opcode %s: a torch.save state dict does not use it", opName(op))
	}
	return false, nil
}

// decodeLong decodes LONG1's operand, a little-endian two's-complement integer of any length,
// which must fit in int64 (sizes, strides and offsets always do).
func decodeLong(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	neg := b[len(b)-1]&0x80 != 0
	// Bytes beyond the eighth may only be sign extension.
	for len(b) > 8 {
		last := b[len(b)-1]
		if (neg && last != 0xff) || (!neg && last != 0) {
			return 0, fmt.Errorf("LONG1 integer of %d bytes does not fit in int64", len(b))
		}
		b = b[:len(b)-1]
	}
	if (b[len(b)-1]&0x80 != 0) != neg {
		return 0, fmt.Errorf("LONG1 integer does not fit in int64")
	}
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if neg && len(b) < 8 {
		u |= ^uint64(0) << (8 * len(b)) // sign-extend
	}
	return int64(u), nil
}
