package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/goformer/goformer/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var pretrain = flag.Bool("pretrain", false, "train the shipped model again and write pretrained.safetensors")

// pretrainRun is how the shipped model was trained: the page's own training code, on tiny
// Shakespeare's characters, small enough to ship (F16 weights of about 100k parameters).
var pretrainRun = trainConfig{
	Text: "shakespeare", Tokenizer: "char", NLayer: 2, NHead: 4, NEmbd: 64, BlockSize: 64,
	BatchSize: 16, MaxIters: 3000, LR: 3e-3, EvalInterval: 250, Seed: 1337,
}

// TestPretrainedRegenerate trains the shipped model again (with -pretrain) and writes it.
func TestPretrainedRegenerate(t *testing.T) {
	if !*pretrain {
		t.Skip("-pretrain trains the shipped model again (about two minutes on two cores) and rewrites pretrained.safetensors")
	}
	srv, ts := newTestServer(t, options{})
	var st trainStatus
	code, body := call(t, ts, "POST", "/api/train/start", pretrainRun, &st)
	require.Equal(t, http.StatusOK, code, body)
	t0 := time.Now()
	st = waitTrain(t, ts, time.Hour, func(s trainStatus) bool { return s.State != stateRunning })
	require.Equal(t, stateFinished, st.State, st.Message)
	last := st.Evals[len(st.Evals)-1]
	t.Logf("trained %d iterations in %v: train loss %.4f, val loss %.4f", st.Step, time.Since(t0).Round(time.Second), last.Train, last.Val)

	srv.train.mu.Lock()
	r := srv.train.cur
	srv.train.mu.Unlock()
	cfgJSON, err := json.Marshal(r.m.Config)
	require.NoError(t, err)
	runJSON, err := json.Marshal(pretrainRun)
	require.NoError(t, err)
	meta := map[string]string{
		"config": string(cfgJSON), "vocab": r.data.voc.meta["vocab"], "step": strconv.Itoa(st.Step),
		"val_loss": strconv.FormatFloat(last.Val, 'f', 4, 64), "train_loss": strconv.FormatFloat(last.Train, 'f', 4, 64),
		"text": "tiny Shakespeare", "trained_by": "examples/explore TestPretrainedRegenerate", "run": string(runJSON),
	}
	tensors := map[string][]float32{}
	shapes := map[string][]int{}
	for _, p := range r.m.Parameters() {
		tensors[p.Name()] = p.Value.Contiguous().Data()
		shapes[p.Name()] = p.Value.Shape()
	}
	var buf bytes.Buffer
	require.NoError(t, writeF16(&buf, tensors, shapes, meta))
	require.NoError(t, os.WriteFile("pretrained.safetensors", buf.Bytes(), 0o644))

	// the F16 weights lose next to nothing on the run's own validation batches
	m, _, _, err := loadPretrained(buf.Bytes())
	require.NoError(t, err)
	f := m.Frozen()
	sum := 0.0
	for _, b := range r.eval["val"] {
		l, err := f.Loss(b.x, b.y, pretrainRun.BatchSize, pretrainRun.BlockSize)
		require.NoError(t, err)
		sum += float64(l.Item())
	}
	t.Logf("wrote %d bytes; val loss with F16 weights %.4f", buf.Len(), sum/float64(len(r.eval["val"])))
}

// writeF16 writes tensors as F16 in the safetensors format (the library writes F32 only).
func writeF16(w *bytes.Buffer, tensors map[string][]float32, shapes map[string][]int, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	type entry struct {
		Dtype   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	hdr := map[string]any{"__metadata__": meta}
	var data []byte
	for _, n := range names {
		start := len(data)
		for _, x := range tensors[n] {
			data = binary.LittleEndian.AppendUint16(data, float32ToFloat16(x))
		}
		hdr[n] = entry{Dtype: "F16", Shape: shapes[n], Offsets: [2]int{start, len(data)}}
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	w.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(js))))
	w.Write(js)
	w.Write(data)
	return nil
}

// float32ToFloat16 rounds x to the nearest IEEE 754 binary16 value (ties to even), with
// subnormals, infinities for what overflows, and a quiet NaN for NaN.
func float32ToFloat16(x float32) uint16 {
	b := math.Float32bits(x)
	sign := uint16(b>>16) & 0x8000
	exp := int(b >> 23 & 0xff)
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // a half subnormal (or zero): units of 2^-24
		shift := uint(14 - e)
		if shift > 24 {
			return sign
		}
		m := mant | 0x800000
		half := m >> shift
		rem, halfway := m&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > halfway || rem == halfway && half&1 == 1 {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || rem == 0x1000 && half&1 == 1 {
		half++ // a carry into the exponent is right, up to infinity
	}
	return sign | uint16(half)
}

func TestFloat32ToFloat16(t *testing.T) {
	// every half value comes back as itself (the library's reader is the reference)
	for h := range 1 << 16 {
		x := safetensors.Float16ToFloat32(uint16(h))
		if x != x {
			continue
		}
		require.Equal(t, uint16(h), float32ToFloat16(x), "half %#04x = %v", h, x)
	}
	// midpoints between neighbours round to the even one; a bit above, to the upper one
	for _, h := range []uint16{0x0000, 0x0001, 0x0002, 0x03ff, 0x3c00, 0x3c01, 0x7bfe, 0x8001, 0xbc00} {
		lo, hi := float64(safetensors.Float16ToFloat32(h)), float64(safetensors.Float16ToFloat32(h+1))
		mid := float32((lo + hi) / 2)
		want := h
		if h&1 == 1 {
			want = h + 1
		}
		assert.Equal(t, want, float32ToFloat16(mid), "midpoint above %#04x", h)
		away := float32(math.Inf(1)) // from zero: the next half's side
		if h&0x8000 != 0 {
			away = float32(math.Inf(-1))
		}
		assert.Equal(t, h+1, float32ToFloat16(math.Nextafter32(mid, away)), "just past the midpoint of %#04x", h)
	}
	assert.Equal(t, uint16(0x7c00), float32ToFloat16(70000))
	assert.Equal(t, uint16(0x7c00), float32ToFloat16(65520), "65520 rounds up to infinity")
	assert.Equal(t, uint16(0x7bff), float32ToFloat16(65519))
	assert.Equal(t, uint16(0), float32ToFloat16(1e-9))
}

// The page opens on the shipped model, which has learnt tiny Shakespeare: on the opening of the
// play it guesses the next character far better than chance, and says the obvious next
// character first.
func TestOpensOnATrainedModel(t *testing.T) {
	_, ts := newTestServer(t, options{})
	var r runResponse
	code, body := call(t, ts, "GET", "/api/run?text="+"First%20Citizen%3A%0ABefore%20we%20proceed", nil, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, pretrainedModel, r.Model, "a request that names no model gets the shipped one")
	assert.Equal(t, 3000, r.Step)
	// the text goes on "Before we proceed any further": a space
	require.NotEmpty(t, r.Next.Top)
	assert.Equal(t, " ", r.Next.Top[0].Text, "the first guess after %q", "proceed")
	assert.Greater(t, r.Next.Top[0].P, 0.5)
	// the mean penalty of the text's own characters, against ln 65 = 4.17 for blind guessing
	sum := 0.0
	for _, tk := range r.Tokens[1:] {
		sum -= math.Log(float64(*tk.P))
	}
	mean := sum / float64(len(r.Tokens)-1)
	assert.Less(t, mean, 2.2, "mean cross-entropy of the opening lines")
	t.Logf("mean cross-entropy %.3f over %d characters; top guess %q at %.2f", mean, len(r.Tokens)-1, r.Next.Top[0].Text, r.Next.Top[0].P)

	// random weights are one pick away, and know nothing
	var u runResponse
	code, body = call(t, ts, "GET", "/api/run?model=trained&text="+"First%20Citizen%3A%0ABefore%20we%20proceed", nil, &u)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, u.Note, "random weights")
	assert.Less(t, u.Next.Top[0].P, 0.1)
}

// A pretrained file that is cut short or names shapes the model does not have gives an error.
func TestLoadPretrainedRejectsBadFiles(t *testing.T) {
	_, _, _, err := loadPretrained(pretrainedFile[:len(pretrainedFile)/2])
	assert.Error(t, err)
	_, _, _, err = loadPretrained(nil)
	assert.Error(t, err)
	var buf bytes.Buffer
	meta := map[string]string{"config": `{"VocabSize":3,"BlockSize":4,"NLayer":1,"NHead":1,"NEmbd":2}`, "vocab": "abc", "step": "1", "val_loss": "1"}
	require.NoError(t, writeF16(&buf, map[string][]float32{"wte.weight": make([]float32, 4)}, map[string][]int{"wte.weight": {2, 2}}, meta))
	_, _, _, err = loadPretrained(buf.Bytes())
	assert.ErrorContains(t, err, "wte.weight")
}
