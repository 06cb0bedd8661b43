package checkpoint

import (
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tensor"
)

// loraCases are the LoRA runs the tests checkpoint: adapters on every Linear of a GPT-2's blocks,
// and on some of a Llama-family model's (grouped KV heads, QK-norm, an untied head), both with
// dropout, so that the dropout generator's state matters.
var loraCases = []struct {
	name string
	cfg  model.Config
	lora model.LoRAConfig
}{
	{"gpt2", dropoutConfig(), model.LoRAConfig{Rank: 2, Alpha: 4}},
	{"llama", llamaDropoutConfig(), model.LoRAConfig{Rank: 2, Alpha: 8, Targets: []string{"q_proj", "v_proj", "down_proj"}}},
}

// newLoRA returns the base model New(cfg, baseSeed) with adapters lc drawn with loraSeed (which
// also seeds their dropout generator).
func newLoRA(t testing.TB, cfg model.Config, lc model.LoRAConfig, baseSeed, loraSeed uint64) *model.GPT {
	t.Helper()
	lc.Seed = loraSeed
	l, err := newGPT(t, cfg, baseSeed).WithLoRA(lc)
	require.NoError(t, err)
	return l
}

// A LoRA run checkpoints and resumes as a full run does: N steps straight, and N/2 steps, a save,
// a load and N/2 more give the same losses and the same adapters to the bit, with AdamW and with
// SGD, whether the run resumes on adapters made afresh (another seed) on the same base or on the
// model Checkpoint.GPT rebuilds, base and adapters, from the checkpoint alone. The base never
// changes, and the dropout generator's and the optimizer's states are needed for the result.
func TestLoRAResumeIsBitwiseIdentical(t *testing.T) {
	const n = 8
	for _, tc := range loraCases {
		for _, o := range optimizers {
			t.Run(tc.name+"/"+o.name, func(t *testing.T) {
				straight := newLoRA(t, tc.cfg, tc.lora, 1, 3)
				wantLosses := trainRange(t, straight, o.make(straight), rand.NewPCG(5, 6), 0, n)
				want := paramBits(straight)
				wantBase := paramBits(newGPT(t, tc.cfg, 1))
				require.Equal(t, wantBase, varBits(straight.BaseWeights()), "training adapters leaves the base as it was")

				first := newLoRA(t, tc.cfg, tc.lora, 1, 3)
				opt := o.make(first)
				data := rand.NewPCG(5, 6)
				firstLosses := trainRange(t, first, opt, data, 0, n/2)
				dir := t.TempDir()
				require.NoError(t, Save(dir, first, State{Step: n / 2, Optimizer: opt, RNGs: map[string]RNGState{"data": data}}))

				ck, err := Load(dir)
				require.NoError(t, err)
				assert.Equal(t, KindGPT, ck.Kind)
				assert.Equal(t, n/2, ck.Step)
				assert.Equal(t, &tc.lora, ck.LoRA(), "the adapters' configuration, without the seed")
				for _, name := range ck.tensorNames() {
					if strings.HasPrefix(name, optimPrefix) {
						assert.Contains(t, name, ".lora_", "the optimizer's state is the adapters'")
					}
				}

				type variant struct{ scrambleDropout, skipOptimizer bool }
				// resume trains m from the checkpoint to n, returning the run's losses.
				resume := func(m *model.GPT, v variant) []float32 {
					o2 := o.make(m)
					if v.skipOptimizer {
						require.NoError(t, ck.Restore(m, nil))
					} else {
						require.NoError(t, ck.Restore(m, o2))
						assert.Equal(t, opt.State(), o2.State())
					}
					if v.scrambleDropout {
						m.DropoutRNG().Seed(7, 7)
					}
					d := rand.NewPCG(0, 0)
					require.NoError(t, ck.RestoreRNG("data", d))
					return append(slices.Clone(firstLosses), trainRange(t, m, o2, d, ck.Step, n)...)
				}

				// fresh adapters, another dropout generator, on the same base
				m := newLoRA(t, tc.cfg, tc.lora, 1, 99)
				assert.Equal(t, wantLosses, resume(m, variant{}))
				assert.Equal(t, want, paramBits(m))
				assert.Equal(t, wantBase, varBits(m.BaseWeights()))
				// The test can fail: without the dropout generator's state, or without the
				// optimizer's, training goes another way.
				for _, v := range []variant{{scrambleDropout: true}, {skipOptimizer: true}} {
					m := newLoRA(t, tc.cfg, tc.lora, 1, 99)
					resume(m, v)
					assert.NotEqual(t, want, paramBits(m), "%+v", v)
				}

				// the model rebuilt from the checkpoint alone, base and adapters
				g, err := ck.GPT()
				require.NoError(t, err)
				assert.Equal(t, &tc.lora, g.LoRA())
				assert.Equal(t, paramBits(first), paramBits(g))
				assert.Equal(t, wantBase, varBits(g.BaseWeights()))
				assert.Equal(t, wantLosses, resume(g, variant{}))
				assert.Equal(t, want, paramBits(g))
				assert.Equal(t, wantBase, varBits(g.BaseWeights()))
			})
		}
	}
}

// Restore puts a LoRA checkpoint's adapters only on a model with the same adapters (rank, alpha,
// targets) on the same base, to the bit: anything else is an error that changes nothing. A
// checkpoint of a model without adapters does not restore into one with adapters either.
func TestRestoreChecksTheAdaptersAndTheBase(t *testing.T) {
	tc := loraCases[0]
	m := newLoRA(t, tc.cfg, tc.lora, 1, 3)
	opt := optimizers[0].make(m)
	trainRange(t, m, opt, rand.NewPCG(5, 6), 0, 2)
	dir := t.TempDir()
	require.NoError(t, Save(dir, m, State{Step: 2, Optimizer: opt}))
	ck, err := Load(dir)
	require.NoError(t, err)

	other := func(edit func(c *model.LoRAConfig)) *model.GPT {
		lc := tc.lora
		edit(&lc)
		return newLoRA(t, tc.cfg, lc, 1, 3)
	}
	for _, c := range []struct {
		name  string
		model *model.GPT
		want  string
	}{
		{"no adapters", newGPT(t, tc.cfg, 1), "the checkpoint's model has LoRA adapters (rank 2, alpha 4, targets [])"},
		{"another rank", other(func(c *model.LoRAConfig) { c.Rank = 3 }), "the checkpoint's LoRA adapters have rank 2, alpha 4"},
		{"another alpha", other(func(c *model.LoRAConfig) { c.Alpha = 2 }), "model's rank 2, alpha 2"},
		{"other targets", other(func(c *model.LoRAConfig) { c.Targets = []string{"c_attn"} }), `targets ["c_attn"]`},
		{"another base", newLoRA(t, tc.cfg, tc.lora, 2, 3), "trained on another base"},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			before := paramBits(c.model)
			o := optimizers[0].make(c.model)
			err := ck.Restore(c.model, o)
			assert.ErrorContains(t, err, c.want)
			assert.Equal(t, before, paramBits(c.model), "a failed Restore changes nothing")
			assert.Equal(t, optimizers[0].make(c.model).State(), o.State())
		})
	}

	full := t.TempDir()
	require.NoError(t, Save(full, newGPT(t, tc.cfg, 1), State{}))
	ck, err = Load(full)
	require.NoError(t, err)
	assert.Nil(t, ck.LoRA())
	assert.ErrorContains(t, ck.Restore(newLoRA(t, tc.cfg, tc.lora, 1, 3), nil), "the model has LoRA adapters (rank 2), the checkpoint's model none")
}

// A damaged LoRA checkpoint is an error at Load, never a panic: the adapters' configuration
// and tensors are checked as the base's are.
func TestCorruptLoRACheckpointsAreErrors(t *testing.T) {
	tc := loraCases[0]
	m := newLoRA(t, tc.cfg, tc.lora, 1, 3)
	opt := optimizers[0].make(m)
	trainRange(t, m, opt, rand.NewPCG(5, 6), 0, 1)
	good := t.TempDir()
	require.NoError(t, Save(good, m, State{Step: 1, Optimizer: opt}))
	lora := func(raw map[string]any) map[string]any { return raw["lora"].(map[string]any) }

	for name, c := range map[string]struct {
		damage func(dir string)
		want   string
	}{
		"no lora config":            {editJSON(t, func(raw map[string]any) { delete(raw, "lora") }), "unexpected tensor h.0.attn.c_attn.lora_A.weight"},
		"lora config null":          {editJSON(t, func(raw map[string]any) { raw["lora"] = nil }), "unexpected tensor h.0.attn.c_attn.lora_A.weight"},
		"lora config not an object": {editJSON(t, func(raw map[string]any) { raw["lora"] = 2 }), "not a valid checkpoint"},
		"other rank":                {editJSON(t, func(raw map[string]any) { lora(raw)["rank"] = 1 }), "lora_A.weight has shape [2 8], the config needs [1 8]"},
		"zero rank":                 {editJSON(t, func(raw map[string]any) { lora(raw)["rank"] = 0 }), "rank must be positive"},
		"huge rank":                 {editJSON(t, func(raw map[string]any) { lora(raw)["rank"] = 1 << 40 }), "rank 1099511627776 is more than"},
		"negative alpha":            {editJSON(t, func(raw map[string]any) { lora(raw)["alpha"] = -1 }), "alpha must be finite and >= 0"},
		"no targets":                {editJSON(t, func(raw map[string]any) { lora(raw)["targets"] = []any{} }), "no layer matches"},
		"fewer targets":             {editJSON(t, func(raw map[string]any) { lora(raw)["targets"] = []any{"c_attn"} }), "unexpected tensor h.0.attn.c_proj.lora_A.weight"},
		"lora on a transformer": {func(dir string) {
			tm, err := model.NewTransformer(transformerConfig4Test(), 1)
			require.NoError(t, err)
			require.NoError(t, Save(dir, tm, State{}))
			editJSON(t, func(raw map[string]any) { raw["lora"] = map[string]any{"rank": 2} })(dir)
		}, `LoRA adapters on a model of kind "transformer"`},
		"missing adapter": {func(dir string) {
			rewriteTensors(t, dir, func(ts map[string]*tensor.Tensor) { delete(ts, "h.1.mlp.c_fc.lora_B.weight") })
		}, "h.1.mlp.c_fc.lora_B.weight is missing"},
		"missing base weight": {func(dir string) {
			rewriteTensors(t, dir, func(ts map[string]*tensor.Tensor) { delete(ts, "h.0.ln_1.weight") })
		}, "h.0.ln_1.weight is missing"},
		"optimizer state for a frozen weight": {editJSON(t, func(raw map[string]any) {
			o := raw["optimizer"].(map[string]any)
			o["params"] = append(o["params"].([]any), "wte.weight")
			o["steps"] = append(o["steps"].([]any), 1)
		}), "state for wte.weight, which is not a parameter of the model"},
		"truncated tensor file": {func(dir string) {
			p := tensorPath(t, dir)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, b[:len(b)/2], 0o644))
		}, "checksum mismatch"},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dir := copyCheckpoint(t, good)
			c.damage(dir)
			ck, err := Load(dir)
			assert.Nil(t, ck)
			assert.ErrorContains(t, err, c.want)
		})
	}
	_, err := Load(copyCheckpoint(t, good))
	assert.NoError(t, err, "the undamaged copy loads")
}

// A save of a LoRA model goes through the same atomic machinery: one that fails part-way leaves
// the previous checkpoint whole, and the next that succeeds replaces it.
func TestFailedLoRASaveKeepsPrevious(t *testing.T) {
	tc := loraCases[1]
	m := newLoRA(t, tc.cfg, tc.lora, 1, 3)
	opt := optimizers[0].make(m)
	trainRange(t, m, opt, rand.NewPCG(5, 6), 0, 2)
	dir := t.TempDir()
	require.NoError(t, Save(dir, m, State{Step: 2, Optimizer: opt}))
	saved := paramBits(m)
	trainRange(t, m, opt, rand.NewPCG(5, 6), 2, 4)

	failEachSaveStage(t, dir, m, opt, saved)
	require.NoError(t, Save(dir, m, State{Step: 4, Optimizer: opt}))
	ck, err := Load(dir)
	require.NoError(t, err)
	got, err := ck.GPT()
	require.NoError(t, err)
	assert.Equal(t, paramBits(m), paramBits(got))
}

// A merged model is a plain model: it saves without adapters, and its checkpoint has none.
func TestMergedLoRASavesAsAPlainModel(t *testing.T) {
	l := newLoRA(t, tinyConfig(), model.LoRAConfig{Rank: 2}, 1, 3)
	merged, err := l.Merge()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, Save(dir, merged, State{}))
	ck, err := Load(dir)
	require.NoError(t, err)
	assert.Nil(t, ck.LoRA())
}
