package model

import (
	"math"
	"testing"

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
	for _, p := range ref.NamedParams() {
		want[p.Name] = p.Var.Value.Values()
	}
	got := m.NamedParams()
	require.Len(t, got, len(want))
	for _, p := range got {
		w, ok := want[p.Name]
		require.True(t, ok, "parameter %s is not in the fixture", p.Name)
		g := p.Var.Value.Values()
		require.Len(t, g, len(w), p.Name)
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
				t.Fatalf("%s[%d] = %v, PyTorch drew %v", p.Name, i, g[i], w[i])
			}
		}
	}

	// another seed gives other weights
	other, err := NewLikePyTorch(cfg, 1338)
	require.NoError(t, err)
	require.NotEqual(t, m.WTE.Weight.Value.Values(), other.WTE.Weight.Value.Values())
}
