package model

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/nn"
)

// Inspect's first-layer attention, recomputed with plain loops from the parameters: embeddings,
// LayerNorm, the q/k projections, scaled scores, the causal mask and a softmax.
func TestInspectAttentionMatchesAHandComputation(t *testing.T) {
	cfg := genConfig()
	m := peakedModel(t, cfg, 11)
	ids := []int{3, 1, 4, 1, 5}
	in, err := m.Inspect(ids)
	require.NoError(t, err)
	require.Len(t, in.Attention, cfg.NLayer)
	require.Len(t, in.Attention[0], cfg.NHead)
	assert.Equal(t, ids, in.Tokens)

	c, nh := cfg.NEmbd, cfg.NHead
	hs := c / nh
	wte, wpe := m.WTE.Weight.Value.Data(), m.WPE.Weight.Value.Data()
	blk := m.H[0]
	lnW, lnB := blk.AttnNorm.(*nn.LayerNorm).Weight.Value.Data(), blk.AttnNorm.(*nn.LayerNorm).Bias.Value.Data()
	w, b := blk.Attn.QKV.Weight.Value.Data(), blk.Attn.QKV.Bias.Value.Data() // (3C, C), (3C)
	T := len(ids)
	q := make([][]float64, T)
	k := make([][]float64, T)
	for i, id := range ids {
		x := make([]float64, c)
		mean, vr := 0.0, 0.0
		for j := range c {
			x[j] = float64(wte[id*c+j]) + float64(wpe[i*c+j])
			mean += x[j]
		}
		mean /= float64(c)
		for j := range c {
			vr += (x[j] - mean) * (x[j] - mean)
		}
		vr /= float64(c)
		for j := range c {
			x[j] = (x[j]-mean)/math.Sqrt(vr+1e-5)*float64(lnW[j]) + float64(lnB[j])
		}
		q[i], k[i] = make([]float64, c), make([]float64, c)
		for o := range c {
			sq, sk := float64(b[o]), float64(b[c+o])
			for j := range c {
				sq += float64(w[o*c+j]) * x[j]
				sk += float64(w[(c+o)*c+j]) * x[j]
			}
			q[i][o], k[i][o] = sq, sk
		}
	}
	for h := range nh {
		for i := range T {
			scores := make([]float64, i+1)
			top, sum := math.Inf(-1), 0.0
			for j := range i + 1 {
				for d := range hs {
					scores[j] += q[i][h*hs+d] * k[j][h*hs+d]
				}
				scores[j] /= math.Sqrt(float64(hs))
				top = max(top, scores[j])
			}
			for j := range scores {
				scores[j] = math.Exp(scores[j] - top)
				sum += scores[j]
			}
			for j := range T {
				want := 0.0
				if j <= i {
					want = scores[j] / sum
				}
				assert.InDelta(t, want, in.Attention[0][h][i][j], 1e-5, "head %d, %d→%d", h, i, j)
			}
		}
	}
}

// Next is the softmax of Forward's logits, position by position.
func TestInspectNextIsTheSoftmaxOfTheLogits(t *testing.T) {
	m := peakedModel(t, genConfig(), 12)
	ids := []int{2, 7, 1, 8}
	in, err := m.Inspect(ids)
	require.NoError(t, err)
	logits, err := m.Frozen().Forward(ids, 1, len(ids))
	require.NoError(t, err)
	v := m.Config.VocabSize
	l := logits.Value.Contiguous().Data()
	require.Len(t, in.Next, len(ids))
	for i := range ids {
		row := l[i*v : (i+1)*v]
		sum := 0.0
		for _, x := range row {
			sum += math.Exp(float64(x))
		}
		total := 0.0
		for j := range v {
			assert.InDelta(t, math.Exp(float64(row[j]))/sum, in.Next[i][j], 1e-6)
			total += float64(in.Next[i][j])
		}
		assert.InDelta(t, 1, total, 1e-5)
	}
	_, err = m.Inspect(nil)
	assert.Error(t, err)
	_, err = m.Inspect([]int{99})
	assert.Error(t, err)
}
