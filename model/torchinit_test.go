package model

import (
	"math"
	"testing"

	"github.com/goformer/goformer/safetensors"
	"github.com/stretchr/testify/require"
)

// TestNewLikePyTorch compares every initial weight with the ones PyTorch drew for the same
// configuration and seed (testdata/torch-init, written by testdata/make_torch_init.py from the
// PyTorch reference's model), bit for bit.
func TestNewLikePyTorch(t *testing.T) {
	ref, err := LoadHF("testdata/torch-init")
	require.NoError(t, err)
	cfg := ref.Config
	m, err := NewLikePyTorch(cfg, 1337)
	require.NoError(t, err)

	want := map[string][]float32{}
	for _, p := range ref.Parameters() {
		want[p.Name()] = p.Value.Values()
	}
	got := m.Parameters()
	require.Len(t, got, len(want))
	for _, p := range got {
		w, ok := want[p.Name()]
		require.True(t, ok, "parameter %s is not in the fixture", p.Name())
		g := p.Value.Values()
		require.Len(t, g, len(w), p.Name())
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
				t.Fatalf("%s[%d] = %v, PyTorch drew %v", p.Name(), i, g[i], w[i])
			}
		}
	}

	// another seed gives other weights
	other, err := NewLikePyTorch(cfg, 1338)
	require.NoError(t, err)
	require.NotEqual(t, m.WTE.Weight.Value.Values(), other.WTE.Weight.Value.Values())
}

// TestNewLikePyTorchWithoutBias checks the draw order of nanoGPT's default, bias=False, where no
// Linear draws a bias: testdata/torch-init-nobias holds PyTorch's weights for it.
func TestNewLikePyTorchWithoutBias(t *testing.T) {
	st, err := safetensors.Open("testdata/torch-init-nobias/weights.safetensors")
	require.NoError(t, err)
	defer st.Close()
	m, err := NewLikePyTorch(Config{VocabSize: 37, BlockSize: 10, NLayer: 2, NHead: 2, NEmbd: 24, NoBias: true}, 1337)
	require.NoError(t, err)
	compared := 0
	for _, p := range m.Parameters() {
		if !st.Has(p.Name()) {
			require.Contains(t, p.Name(), "ln_", "only the layer norms (which draw nothing) are not in the file")
			continue
		}
		want, err := st.Float32(p.Name())
		require.NoError(t, err)
		require.Equal(t, want.Shape(), p.Value.Shape(), p.Name())
		w, g := want.Values(), p.Value.Values()
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
				t.Fatalf("%s[%d] = %v, PyTorch drew %v", p.Name(), i, g[i], w[i])
			}
		}
		compared++
	}
	require.Equal(t, 2+2*4, compared)
}
