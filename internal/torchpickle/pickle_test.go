package torchpickle

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pk writes pickles by hand, opcode by opcode, so that tests can build inputs torch.save would
// never write.
type pk struct{ b []byte }

func (p *pk) op(ops ...byte) *pk { p.b = append(p.b, ops...); return p }

func (p *pk) str(s string) *pk {
	p.b = append(p.b, opBinunicode)
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p
}

// int writes n with the smallest opcode pickle would choose.
func (p *pk) int(n int64) *pk {
	switch {
	case n >= 0 && n < 256:
		return p.op(opBinint1, byte(n))
	case n >= 0 && n < 65536:
		return p.op(opBinint2, byte(n), byte(n>>8))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		p.op(opBinint)
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(n))
		return p
	}
	p.op(opLong1, 8)
	p.b = binary.LittleEndian.AppendUint64(p.b, uint64(n))
	return p
}

func (p *pk) global(module, name string) *pk {
	return p.op(opGlobal).op([]byte(module + "\n" + name + "\n")...)
}

func (p *pk) ints(ns ...int64) *pk {
	p.op(opMark)
	for _, n := range ns {
		p.int(n)
	}
	return p.op(opTuple)
}

// view describes one tensor of a hand-made state dict.
type view struct {
	name, storageType, key string
	numel, offset          int64
	size, stride           []int64
}

// stateDict writes torch.save's pickle of the given tensors: an OrderedDict of
// _rebuild_tensor_v2 calls on persistent storages.
func stateDict(views ...view) []byte {
	p := (&pk{}).op(opProto, 2).global("collections", "OrderedDict").op(opEmptyTuple, opReduce, opMark)
	for _, v := range views {
		p.str(v.name).global("torch._utils", "_rebuild_tensor_v2").op(opMark)
		p.op(opMark).str("storage").global("torch", v.storageType).str(v.key).str("cpu").int(v.numel).op(opTuple, opBinpersid)
		p.int(v.offset).ints(v.size...).ints(v.stride...).op(opNewfalse)
		p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
		p.op(opTuple, opReduce)
	}
	return p.op(opSetitems, opStop).b
}

// records pretends every storage key names a record of 4096 bytes, except "missing".
func records(key string) (int64, bool) { return 4096, key != "missing" }

func TestHandMadeStateDict(t *testing.T) {
	good := view{name: "w", storageType: "FloatStorage", key: "0", numel: 12, offset: 2, size: []int64{2, 5}, stride: []int64{5, 1}}
	names, tensors, err := parseStateDict(stateDict(good, view{name: "b", storageType: "HalfStorage", key: "1", numel: 3, size: []int64{}, stride: []int64{}}), records)
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "w"}, names)
	assert.Equal(t, int64(2), tensors["w"].offset)
	assert.Equal(t, []int64{2, 5}, tensors["w"].shape)
	assert.Equal(t, "F16", tensors["b"].st.dt.name)
}

// TestBadPickles: every malformed or hostile pickle is an error naming the problem.
func TestBadPickles(t *testing.T) {
	good := view{name: "w", storageType: "FloatStorage", key: "0", numel: 12, offset: 2, size: []int64{2, 5}, stride: []int64{5, 1}}
	with := func(f func(*view)) []byte {
		v := good
		f(&v)
		return stateDict(v)
	}
	valid := stateDict(good)
	cases := []struct {
		name string
		pkl  []byte
		want string
	}{
		{"empty", nil, "no STOP"},
		{"forbidden global", (&pk{}).op(opProto, 2).global("os", "system").str("echo hi").op(opTuple1, opReduce, opStop).b, "GLOBAL os.system is not allowed"},
		{"forbidden stack global", (&pk{}).op(opProto, 4).str("builtins").str("eval").op(opStackGlobal, opStop).b, "GLOBAL builtins.eval is not allowed"},
		{"builtins getattr", (&pk{}).global("builtins", "getattr").op(opStop).b, "not allowed"},
		{"unknown opcode", []byte{opProto, 2, 'i', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', opStop}, "unsupported opcode INST"},
		{"undefined opcode", []byte{0xff, opStop}, "unsupported opcode 0xff"},
		{"newer protocol", []byte{opProto, 6, opNone, opStop}, "protocol 6"},
		{"truncated string", (&pk{}).op(opBinunicode, 10, 0, 0, 0, 'a').b, "truncated"},
		{"huge string length", (&pk{}).op(opBinunicode, 0xff, 0xff, 0xff, 0xff).b, "truncated"},
		{"bad utf-8", (&pk{}).op(opShortBinunicode, 1, 0xff, opStop).b, "UTF-8"},
		{"huge frame", (&pk{}).op(opProto, 4, opFrame, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f).b, "frame"},
		{"memo miss", []byte{opBinget, 7, opStop}, "memo key 7"},
		{"underflow", []byte{opTuple2, opStop}, "stack underflow"},
		{"put on empty", []byte{opBinput, 0}, "stack underflow"},
		{"underflow past mark", []byte{opNone, opMark, opTuple1}, "stack underflow"},
		{"no mark", []byte{opTuple, opStop}, "no MARK"},
		{"two results", []byte{opNone, opNone, opStop}, "want one value"},
		{"open mark", []byte{opMark, opNone, opStop}, "open marks"},
		{"long1 too big", []byte{opLong1, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, opStop}, "does not fit in int64"},
		{"not a dict", []byte{opEmptyList, opStop}, "want a state dict"},
		{"not a tensor", (&pk{}).op(opEmptyDict).str("x").int(3).op(opSetitem, opStop).b, `entry "x" is of type int, not a tensor`},
		{"int key", (&pk{}).op(opEmptyDict).int(1).int(3).op(opSetitem, opStop).b, "only str keys"},
		{"duplicate key", (&pk{}).op(opEmptyDict).str("x").op(opNone, opSetitem).str("x").op(opNone, opSetitem, opStop).b, `"x" is set twice`},
		{"setitem on list", (&pk{}).op(opEmptyList).str("x").op(opNone, opSetitem, opStop).b, "want a dict"},
		{"append to dict", []byte{opEmptyDict, opNone, opAppend, opStop}, "want a list"},
		{"call a string", (&pk{}).str("os.system").op(opEmptyTuple, opReduce, opStop).b, "cannot call a str"},
		{"call a storage class", (&pk{}).global("torch", "FloatStorage").op(opEmptyTuple, opReduce, opStop).b, "cannot call"},
		{"reduce args not tuple", (&pk{}).global("collections", "OrderedDict").op(opNone, opReduce, opStop).b, "want a tuple"},
		{"OrderedDict with items", (&pk{}).global("collections", "OrderedDict").op(opNone, opTuple1, opReduce, opStop).b, "want none"},
		{"build on list", []byte{opEmptyList, opEmptyDict, opBuild, opStop}, "BUILD on a list"},
		{"persid not storage", (&pk{}).str("file").op(opBinpersid, opStop).b, "persistent id"},
		{"missing storage", with(func(v *view) { v.key = "missing" }), `storage "missing" is missing from the archive`},
		{"storage larger than record", with(func(v *view) { v.numel = 1025 }), "claims 1025 F32 elements but its record holds 4096 bytes"},
		{"offset past storage", with(func(v *view) { v.offset = 3 }), "runs past the end of storage"},
		{"size past storage", with(func(v *view) { v.offset, v.size, v.stride = 0, []int64{13}, []int64{1} }), "more elements than its storage"},
		{"stride past storage", with(func(v *view) { v.offset, v.size, v.stride = 0, []int64{2, 2}, []int64{11, 1} }), "runs past the end of storage"},
		{"huge stride", with(func(v *view) { v.offset, v.size, v.stride = 0, []int64{2}, []int64{math.MaxInt64} }), "runs past the end of storage"},
		{"huge size", with(func(v *view) { v.size, v.stride = []int64{1 << 40, 1 << 40}, []int64{0, 0} }), "more elements than its storage"},
		{"expanded", with(func(v *view) { v.offset, v.size, v.stride = 0, []int64{4, 4}, []int64{0, 1} }), "expanded views are not supported"},
		{"negative offset", with(func(v *view) { v.offset = -1 }), "storage offset is -1"},
		{"negative size", with(func(v *view) { v.size = []int64{-2, 5} }), "size is not a tuple of non-negative ints"},
		{"stride rank", with(func(v *view) { v.stride = []int64{1} }), "differ in length"},
		{"unknown storage", with(func(v *view) { v.storageType = "ComplexFloatStorage" }), "GLOBAL torch.ComplexFloatStorage is not allowed"},
		{"storage named twice differently", stateDict(good, view{name: "v", storageType: "HalfStorage", key: "0", numel: 12, size: []int64{}, stride: []int64{}}), `storage "0" is named as 12 F32 elements and as 12 F16 elements`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, _, err = parseStateDict(c.pkl, records) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	// Every proper prefix of a valid pickle is truncated: an error, never a panic or a result.
	for n := range len(valid) {
		_, _, err := parseStateDict(valid[:n], records)
		require.Error(t, err, "prefix of %d bytes", n)
	}
}

func TestDecodeLong(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want int64
	}{
		{nil, 0}, {[]byte{0x7f}, 127}, {[]byte{0x80}, -128}, {[]byte{0xff, 0x00}, 255},
		{[]byte{0x00, 0x80}, -32768}, {[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, math.MaxInt64},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, math.MinInt64}, {[]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1},
		{[]byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, -2},
	} {
		got, err := decodeLong(c.b)
		require.NoError(t, err, "%x", c.b)
		assert.Equal(t, c.want, got, "%x", c.b)
	}
	for _, b := range [][]byte{{0, 0, 0, 0, 0, 0, 0, 0x80, 0}, {0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff}, bytes.Repeat([]byte{1}, 9)} {
		_, err := decodeLong(b)
		assert.Error(t, err, "%x", b)
	}
}
