package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// AttentionOutput (inference, no weights kept) gives Attention's output bit for bit, at one query
// (its scratch-row path, also where every key of a row is padding) and at several (prefill).
func TestAttentionOutputIsAttentionsOutput(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ b, tq, tk, nh, nkv, hs int }{
		{1, 1, 1, 2, 1, 64}, {3, 1, 70, 9, 3, 64}, {2, 1, 33, 4, 4, 5}, {2, 6, 20, 4, 2, 16},
	} {
		for _, pad := range []bool{false, true} {
			t.Run(fmt.Sprintf("%+v pad=%v", s, pad), func(t *testing.T) {
				a := Attn{Heads: s.nh, KVHeads: s.nkv, Causal: true}
				if pad {
					a.KeyPad = make([]bool, s.b*s.tk)
					for i := range a.KeyPad {
						a.KeyPad[i] = rng.IntN(3) == 0
					}
					for j := range s.tk { // the first row sees no key at all
						a.KeyPad[j] = true
					}
				}
				q := RandNormal(rng, 0, 1, s.b, s.tq, s.nh*s.hs)
				kv := RandNormal(rng, 0, 1, s.b, s.tk, 2*s.nkv*s.hs) // keys and values side by side
				k, v := kv.Narrow(2, 0, s.nkv*s.hs), kv.Narrow(2, s.nkv*s.hs, s.nkv*s.hs)
				want, _ := Attention(q, k, v, a)
				got := AttentionOutput(q, k, v, a)
				require.Equal(t, want.Shape(), got.Shape())
				require.Equal(t, want.Values(), got.Values())
			})
		}
	}
}
