package main

import (
	"path/filepath"
	"testing"

	"github.com/goformer/goformer/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The structure pictures' weight counts, part by part, add up to the model's parameters: the
// blueprint leaves nothing out and counts nothing twice.
func TestStructureCounts(t *testing.T) {
	m, err := model.New(model.Config{VocabSize: 65, BlockSize: 32, NLayer: 3, NHead: 4, NEmbd: 32}, 1)
	require.NoError(t, err)
	ps := m.Parameters()
	perBlock := paramCount(ps, "h.0.")
	assert.Equal(t, perBlock, paramCount(ps, "h.0.ln_1")+paramCount(ps, "h.0.attn")+paramCount(ps, "h.0.ln_2")+paramCount(ps, "h.0.mlp"))
	// by hand: LayerNorms 2C each, attention 4C² + 4C, MLP 8C² + 5C
	c := 32
	assert.Equal(t, 2*c+4*c*c+4*c+2*c+8*c*c+5*c, perBlock)
	assert.Equal(t, m.NumParams(), paramCount(ps, "wte")+paramCount(ps, "wpe")+3*perBlock+paramCount(ps, "ln_f"))
	require.NoError(t, drawGPT(filepath.Join(t.TempDir(), "gpt.png"), m, "GPT"))

	tm, err := model.NewTransformer(model.TransformerConfig{SrcVocabSize: 10, TgtVocabSize: 12, DModel: 16, NHead: 2,
		NumEncoderLayers: 2, NumDecoderLayers: 3, DimFeedforward: 32, MaxLen: 20, Activation: "relu", PadID: 0, BosID: 1, EosID: 2}, 1)
	require.NoError(t, err)
	ps = tm.Parameters()
	enc, dec := paramCount(ps, "transformer.encoder.layers.0."), paramCount(ps, "transformer.decoder.layers.0.")
	e0, d0 := "transformer.encoder.layers.0.", "transformer.decoder.layers.0."
	assert.Equal(t, enc, paramCount(ps, e0+"self_attn")+paramCount(ps, e0+"linear")+paramCount(ps, e0+"norm1")+paramCount(ps, e0+"norm2"))
	assert.Equal(t, dec, paramCount(ps, d0+"self_attn")+paramCount(ps, d0+"multihead_attn")+paramCount(ps, d0+"linear")+
		paramCount(ps, d0+"norm1")+paramCount(ps, d0+"norm2")+paramCount(ps, d0+"norm3"))
	assert.Equal(t, tm.NumParams(), paramCount(ps, "src_embed")+paramCount(ps, "tgt_embed")+2*enc+3*dec+
		paramCount(ps, "transformer.encoder.norm")+paramCount(ps, "transformer.decoder.norm")+paramCount(ps, "generator"))
	require.NoError(t, drawTransformer(filepath.Join(t.TempDir(), "t.png"), tm, "T"))
}
