package main

// Inside one layer, for one token: its query, key and value in every head, the scores and
// weights it gives the tokens before it, and the activations of the layer's MLP. The model's
// forward pass does not hand these out, so this view computes them again, in plain Go from the
// model's parameters (by their Hugging Face names), written the way a learner would write them:
// LayerNorm, q k v, softmax, the weighted sum, the MLP. TestInsideMatchesTheModel checks it
// against the model's own attention weights and logits.

import (
	"fmt"
	"math"
	"net/http"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
)

// maxInsideWork bounds one request's multiply-adds: the view runs plain loops, and a large
// model (GPT-2) deep down a long text would take minutes.
const maxInsideWork = 3e9

type insideRequest struct {
	Model string `json:"model"`
	IDs   []int  `json:"ids"`
	Layer int    `json:"layer"` // from 0
	Pos   int    `json:"pos"`   // the token, from 0
}

type insideResponse struct {
	Model    string      `json:"model"`
	Version  uint64      `json:"version"`
	Layer    int         `json:"layer"`
	Pos      int         `json:"pos"`
	Token    string      `json:"token"`
	HeadSize int         `json:"head_size"`
	Q        [][]float32 `json:"q"`       // [head][HS]: the token's query
	K        [][]float32 `json:"k"`       // [head][HS]: its key
	V        [][]float32 `json:"v"`       // [head][HS]: its value
	Scores   [][]float32 `json:"scores"`  // [head][pos+1]: q·k_j/√HS for the tokens up to it
	Weights  [][]float32 `json:"weights"` // [head][pos+1]: their softmax
	MLP      []float32   `json:"mlp"`     // the MLP's hidden activations (4C), after GELU; SwiGLU's silu(gate)·up
	// A Llama-family model's: FeedForward is "swiglu", and KVHead[h] the key/value head that
	// query head h reads (K and V then hold that KV head's key and value for each query head).
	FeedForward string `json:"ff,omitempty"`
	KVHead      []int  `json:"kv_head,omitempty"`
}

func (srv *server) handleInside(w http.ResponseWriter, r *http.Request) error {
	var req insideRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	_, s, err := srv.reg.lookup(req.Model, kindGPT)
	if err != nil {
		return err
	}
	c := s.m.Config
	switch {
	case len(req.IDs) == 0:
		return badRequest("ids is empty")
	case len(req.IDs) > window(s):
		return badRequest("%d ids; this model's view shows at most %d", len(req.IDs), window(s))
	case req.Layer < 0 || req.Layer >= c.NLayer:
		return badRequest("layer %d: the model has layers 0 to %d", req.Layer, c.NLayer-1)
	case req.Pos < 0 || req.Pos >= len(req.IDs):
		return badRequest("pos %d: the ids have positions 0 to %d", req.Pos, len(req.IDs)-1)
	}
	for i, id := range req.IDs {
		if id < 0 || id >= c.VocabSize {
			return badRequest("ids[%d] = %d is outside the vocabulary (0 to %d)", i, id, c.VocabSize-1)
		}
	}
	if work := float64(req.Layer+1) * 12 * float64(c.NEmbd*c.NEmbd) * float64(len(req.IDs)); work > maxInsideWork {
		return badRequest("this view computes in plain loops, and layer %d of this model over %d tokens is too much for it: pick an earlier layer or a shorter text", req.Layer+1, len(req.IDs))
	}
	release, err := srv.acquire(r.Context())
	if err != nil {
		return err
	}
	defer release()
	f, err := newRefForward(s.m, req.IDs)
	if err != nil {
		return err
	}
	for l := 0; l < req.Layer; l++ {
		if err := r.Context().Err(); err != nil {
			return err
		}
		f.layer(l, -1, nil)
	}
	out := &insideResponse{Model: req.Model, Version: s.version, Layer: req.Layer, Pos: req.Pos, HeadSize: f.headDim()}
	if out.Model == "" {
		out.Model = srv.firstGPT()
	}
	out.Token = s.voc.decode(req.IDs[req.Pos : req.Pos+1])
	f.layer(req.Layer, req.Pos, out)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// firstGPT names the model a request without a name runs.
func (srv *server) firstGPT() string {
	e, _, err := srv.reg.lookup("", kindGPT)
	if err != nil {
		return ""
	}
	return e.name
}

// refForward is a GPT's forward pass written out: x holds every position's vector (T × C).
type refForward struct {
	cfg    model.Config
	wte    string // the token embedding's name
	eps    float64
	params map[string][]float32
	x      [][]float64
}

func newRefForward(m *model.GPT, ids []int) (*refForward, error) {
	c := m.Config
	f := &refForward{cfg: c, eps: float64(c.LayerNormEps), params: map[string][]float32{}}
	if f.eps == 0 {
		f.eps = 1e-5
	}
	for _, p := range m.Parameters() {
		f.params[p.Name()] = p.Value.Contiguous().Data()
	}
	f.wte = "wte.weight"
	if llamaFamily(c) {
		f.wte = "model.embed_tokens.weight"
	}
	wte := f.params[f.wte]
	if wte == nil {
		return nil, fmt.Errorf("the model has no %s", f.wte)
	}
	var pos func(t, j int) float64
	switch c.Positions {
	case model.PositionsRotary: // turned inside attention instead (inside_llama.go)
		pos = func(int, int) float64 { return 0 }
	case model.PositionsSinusoidal:
		table := nn.SinusoidalTable(len(ids), c.NEmbd)
		pos = func(t, j int) float64 { return float64(table.At(t, j)) }
	default:
		wpe := f.params["wpe.weight"]
		pos = func(t, j int) float64 { return float64(wpe[t*c.NEmbd+j]) }
	}
	for t, id := range ids {
		row := make([]float64, c.NEmbd)
		for j := range row {
			row[j] = float64(wte[id*c.NEmbd+j]) + pos(t, j)
		}
		f.x = append(f.x, row)
	}
	return f, nil
}

// linear returns W·x + b for a weight stored (out, in), row-major; a missing bias is 0.
func (f *refForward) linear(name string, x []float64, out int) []float64 {
	w, b := f.params[name+".weight"], f.params[name+".bias"]
	in := len(x)
	y := make([]float64, out)
	for o := range y {
		s := 0.0
		if b != nil {
			s = float64(b[o])
		}
		row := w[o*in : (o+1)*in]
		for i, xi := range x {
			s += float64(row[i]) * xi
		}
		y[o] = s
	}
	return y
}

// layerNorm returns (x − mean) / √(variance + eps) × weight + bias.
func (f *refForward) layerNorm(name string, x []float64) []float64 {
	w, b := f.params[name+".weight"], f.params[name+".bias"]
	mean, vr := 0.0, 0.0
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		vr += (v - mean) * (v - mean)
	}
	vr /= float64(len(x))
	inv := 1 / math.Sqrt(vr+f.eps)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = (v - mean) * inv * float64(w[i])
		if b != nil {
			y[i] += float64(b[i])
		}
	}
	return y
}

// attend is causal multi-head attention, written out in float64: for each position i and query
// head h (reading KV head kvHeadOf(h): itself in GPT-2), the scores of q_i against every k_j up
// to i, scaled by 1/√HS, their softmax, and the weighted sum of the v_j. q is (T, NH·HS), k and v
// (T, NKV·HS); it returns the heads' outputs (T, NH·HS), and with out records position pos's
// scores and weights.
func (f *refForward) attend(q, k, v [][]float64, nh, hs, pos int, out *insideResponse) [][]float64 {
	scale := 1 / math.Sqrt(float64(hs))
	ys := make([][]float64, len(q))
	for i := range q {
		y := make([]float64, nh*hs)
		for h := range nh {
			g := f.kvHeadOf(h)
			qh := q[i][h*hs : (h+1)*hs]
			scores := make([]float64, i+1)
			top := math.Inf(-1)
			for j := range scores {
				s := 0.0
				for d, x := range qh {
					s += x * k[j][g*hs+d]
				}
				scores[j] = s * scale
				top = math.Max(top, scores[j])
			}
			weights := make([]float64, i+1)
			sum := 0.0
			for j, s := range scores {
				weights[j] = math.Exp(s - top)
				sum += weights[j]
			}
			for j := range weights {
				weights[j] /= sum
				for d := range hs {
					y[h*hs+d] += weights[j] * v[j][g*hs+d]
				}
			}
			if out != nil && i == pos {
				out.Scores = append(out.Scores, to32(scores))
				out.Weights = append(out.Weights, to32(weights))
			}
		}
		ys[i] = y
	}
	return ys
}

func (f *refForward) gelu(x float64) float64 {
	if f.cfg.GELUTanh {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
}

// layer runs block l over every position, updating x. When out is not nil, it records what
// happens to the token at pos.
func (f *refForward) layer(l, pos int, out *insideResponse) {
	if llamaFamily(f.cfg) {
		f.llamaLayer(l, pos, out)
		return
	}
	c, nh := f.cfg.NEmbd, f.cfg.NHead
	hs := c / nh
	pre := fmt.Sprintf("h.%d.", l)
	t := len(f.x)
	q, k, v := make([][]float64, t), make([][]float64, t), make([][]float64, t)
	for i := range t {
		qkv := f.linear(pre+"attn.c_attn", f.layerNorm(pre+"ln_1", f.x[i]), 3*c)
		q[i], k[i], v[i] = qkv[:c], qkv[c:2*c], qkv[2*c:]
	}
	if out != nil {
		for h := range nh {
			out.Q = append(out.Q, to32(q[pos][h*hs:(h+1)*hs]))
			out.K = append(out.K, to32(k[pos][h*hs:(h+1)*hs]))
			out.V = append(out.V, to32(v[pos][h*hs:(h+1)*hs]))
		}
	}
	ys := f.attend(q, k, v, nh, hs, pos, out)
	for i := range t {
		a := f.linear(pre+"attn.c_proj", ys[i], c)
		for j := range a {
			f.x[i][j] += a[j]
		}
		hid := f.linear(pre+"mlp.c_fc", f.layerNorm(pre+"ln_2", f.x[i]), 4*c)
		for j := range hid {
			hid[j] = f.gelu(hid[j])
		}
		if out != nil && i == pos {
			out.MLP = to32(hid)
		}
		m := f.linear(pre+"mlp.c_proj", hid, c)
		for j := range m {
			f.x[i][j] += m[j]
		}
	}
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
