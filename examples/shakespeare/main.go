// Command shakespeare trains a character-level GPT on tiny Shakespeare, nanoGPT's first lesson,
// on the CPU:
//
//	go run ./examples/shakespeare                       # nanoGPT's CPU run: 4 layers, 128 wide, 2000 iterations
//	go run ./examples/shakespeare -max-iters 5000 -out ckpt
//	go run ./examples/shakespeare -resume -out ckpt -max-iters 6000
//	go run ./examples/shakespeare -data mytext.txt       # any UTF-8 text file
//	go run ./examples/shakespeare -plot loss.png         # also draw the losses against the iteration
//	go run ./examples/shakespeare -weights int8          # sample from int8 weights, and print their validation loss
//	go run ./examples/shakespeare -precision bf16        # mixed precision: bf16 matrix products (AVX512-BF16 CPUs)
//	go run ./examples/shakespeare -tokenizer bpe -bpe-vocab 1024   # subword tokens learned from the text
//	go run ./examples/shakespeare -init-from path/to/gpt2 -tokenizer gpt2 -block-size 256 -batch-size 2 -grad-accum 8 -lr 3e-5 -max-iters 200
//	                                                    # fine-tune GPT-2 (a Hugging Face directory) on the text
//	go run ./examples/shakespeare -init-from path/to/SmolLM2-135M -tokenizer model -data mytext.txt -block-size 256 \
//	    -batch-size 4 -lr 2e-4 -max-iters 200 -lora-rank 8 -lora-alpha 16 -export-hf out-hf
//	                                                    # fine-tune a Llama-family model with LoRA, tokenised by its
//	                                                    # own tokenizer.json, and export it merged for transformers
//
// It prints a progress line as it trains, the training and validation losses every -eval-interval
// iterations, saves a checkpoint (model, optimizer, RNG states, vocabulary) to -out after each
// evaluation and at the end, prints a sample of generated text, and finally one line of JSON with
// the run's figures (iterations, median ms/iter, tokens/s, final losses, parameter count).
// With -weights bf16 or int8, the sample comes from a view of the trained model whose weight
// matrices are held in that format (model.GPT.Compact), and the validation loss is printed for
// it beside float32's, to show what the rounding costs; checkpoints stay float32.
// -lora-rank trains low-rank adapters on the blocks' Linear layers (-lora-targets picks some)
// instead of every weight (model.GPT.WithLoRA): the base stays frozen, only the adapters are in
// the optimizer, checkpoints hold the frozen base beside the adapters and their optimizer state,
// -export-hf writes the model with the adapters merged, with the directory's tokenizer files
// beside it, and -export-lora the adapters alone in PEFT's layout (model.SaveLoRA).
// Ctrl-C (or SIGTERM) stops training at the next iteration and saves a checkpoint that -resume
// continues.
// -resume trains on up to -max-iters, which counts the iterations done before it: a checkpoint
// already past -max-iters is refused (it is never rewound), and one exactly at it is evaluated and
// sampled without being rewritten. A run resumes with the flags it was started with: the model
// (of a LoRA run, the base and the adapters) comes from the checkpoint, -init-from then giving
// only the tokenizer (-tokenizer model) and the files -export-hf copies, and -lora-rank,
// -lora-alpha and -lora-targets must describe the checkpoint's adapters (none without -lora-rank).
//
// By default (-rng pytorch) the initial weights and the batches are the ones the PyTorch
// reference (../shared/bench/torch_gpt.py) draws with the same -seed, so the default run
// reproduces the reference's run; -rng pcg uses goformer's own generators instead.
package main

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/examples/internal/trainloop"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

// input.txt is tiny Shakespeare (1,115,394 bytes), the corpus of nanoGPT's shakespeare_char.
//
//go:embed input.txt
var shakespeare string

// options are the command-line flags, named after nanoGPT's configuration variables.
type options struct {
	nLayer, nHead, nEmbd    int
	blockSize, batchSize    int
	bias                    bool
	dropout                 float64
	maxIters                int
	lr, minLR               float64
	warmup, lrDecayIters    int
	weightDecay             float64
	beta1, beta2            float64
	gradClip                float64
	gradAccum               int
	evalInterval, evalIters int
	logInterval             int
	seed                    uint64
	rng                     string
	out                     string
	resume                  bool
	sampleLen               int
	temperature             float64
	topK                    int
	threads                 int
	data                    string
	tokenizer               string
	initFrom                string
	bpeVocab                int
	cpuProfile              string
	exportHF                string
	exportLoRA              string
	plot                    string
	weights                 string
	precision               string
	loraRank                int
	loraAlpha               float64
	loraTargets             string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("shakespeare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.nLayer, "n-layer", 4, "transformer blocks")
	fs.IntVar(&o.nHead, "n-head", 4, "attention heads per block")
	fs.IntVar(&o.nEmbd, "n-embd", 128, "embedding width (divisible by -n-head)")
	fs.IntVar(&o.blockSize, "block-size", 64, "context length in characters")
	fs.IntVar(&o.batchSize, "batch-size", 12, "sequences per iteration")
	fs.BoolVar(&o.bias, "bias", true, "biases in Linear and LayerNorm layers")
	fs.Float64Var(&o.dropout, "dropout", 0, "dropout probability")
	fs.IntVar(&o.maxIters, "max-iters", 2000, "training iterations (in total, counting those before a -resume)")
	fs.Float64Var(&o.lr, "lr", 1e-3, "peak learning rate")
	fs.Float64Var(&o.minLR, "min-lr", 1e-4, "learning rate at the end of the cosine decay")
	fs.IntVar(&o.warmup, "warmup", 100, "linear warmup iterations")
	fs.IntVar(&o.lrDecayIters, "lr-decay-iters", 0, "iteration where the cosine decay reaches -min-lr (0: -max-iters)")
	fs.Float64Var(&o.weightDecay, "weight-decay", 0.1, "AdamW weight decay, on parameters with 2 or more dimensions")
	fs.Float64Var(&o.beta1, "beta1", 0.9, "AdamW β1")
	fs.Float64Var(&o.beta2, "beta2", 0.99, "AdamW β2")
	fs.Float64Var(&o.gradClip, "grad-clip", 1.0, "clip the gradients' global norm to this (0: no clipping)")
	fs.IntVar(&o.gradAccum, "grad-accum", 1, "micro-batches of -batch-size sequences whose gradients add up to one step (nanoGPT's gradient_accumulation_steps)")
	fs.IntVar(&o.evalInterval, "eval-interval", 250, "evaluate and checkpoint every N iterations (0: only at the end)")
	fs.IntVar(&o.evalIters, "eval-iters", 20, "batches per split in an evaluation (0: no evaluation)")
	fs.IntVar(&o.logInterval, "log-interval", 10, "iterations between progress lines")
	fs.Uint64Var(&o.seed, "seed", 1337, "seed for the weights, the batches and the sample")
	fs.StringVar(&o.rng, "rng", "pytorch", "random draws for the weights and batches: pytorch (the same numbers as the PyTorch reference with the same -seed) or pcg (goformer's own generator)")
	fs.StringVar(&o.out, "out", "out-shakespeare", "checkpoint directory")
	fs.BoolVar(&o.resume, "resume", false, "continue from the checkpoint in -out (the model, LoRA adapters and frozen base included, the optimizer and the random generators), with the flags the run was started with")
	fs.IntVar(&o.sampleLen, "sample-len", 500, "characters to generate after training (0: none)")
	fs.Float64Var(&o.temperature, "temperature", 0.8, "sampling temperature (0: always the most likely character)")
	fs.IntVar(&o.topK, "top-k", 200, "sample among the k most likely characters (0: all)")
	fs.IntVar(&o.threads, "threads", 0, "goroutines for the heavy kernels (0: GOMAXPROCS)")
	fs.StringVar(&o.data, "data", "", "train on this UTF-8 text file instead of the embedded tiny Shakespeare")
	fs.StringVar(&o.tokenizer, "tokenizer", "char", "char (one token per character), bpe (a byte-level BPE learned from the text), gpt2 (GPT-2's tokenizer) or model (the -init-from directory's own: tokenizer.json, else GPT-2's)")
	fs.StringVar(&o.initFrom, "init-from", "", "fine-tune a Hugging Face directory (a GPT-2 or a Llama-family model: config.json + weights) instead of training from random weights; its config replaces -n-layer, -n-head, -n-embd and -bias, and it needs -tokenizer model (or gpt2 for a GPT-2); with -resume the model comes from the checkpoint, and the directory gives only the tokenizer and the files -export-hf copies")
	fs.IntVar(&o.loraRank, "lora-rank", 0, "with -init-from, train low-rank adapters of this rank instead of every weight (0: full fine-tuning); the base stays frozen, checkpoints hold it and the adapters, and the adapters are merged on -export-hf")
	fs.Float64Var(&o.loraAlpha, "lora-alpha", 16, "LoRA scale numerator: the adapters' term is scaled by alpha/rank")
	fs.StringVar(&o.loraTargets, "lora-targets", "", "comma-separated layer names to adapt, matched at the end of their names as PEFT's target_modules (q_proj,v_proj; c_attn); empty: every Linear layer of the blocks")
	fs.IntVar(&o.bpeVocab, "bpe-vocab", 512, "vocabulary size of the BPE that -tokenizer bpe learns (at least 256)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the training loop to this file")
	fs.StringVar(&o.plot, "plot", "", "after training, draw the training and validation losses against the iteration into this PNG file")
	fs.StringVar(&o.weights, "weights", "float32", "weight format of the model the sample is drawn from: float32, bf16 or int8 (bf16 and int8 also print their validation loss)")
	fs.StringVar(&o.precision, "precision", "float32", "matrix products in training and evaluation: float32, or bf16 (bf16 inputs, float32 accumulation; weights, gradients and optimizer state stay float32; needs AVX512-BF16, else float32)")
	fs.StringVar(&o.exportLoRA, "export-lora", "", "with -lora-rank, after training also write the adapters alone to this directory in PEFT's layout (adapter_config.json + adapter_model.safetensors), for model.LoadLoRA or PEFT's PeftModel.from_pretrained on the base model")
	fs.StringVar(&o.exportHF, "export-hf", "", "after training, also write the model to this directory as a Hugging Face GPT-2 (config.json + model.safetensors)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, o.validate()
}

func (o *options) validate() error {
	var c trainloop.Checks
	f := trainloop.Int
	c.Positive(f("-n-layer", o.nLayer), f("-n-head", o.nHead), f("-n-embd", o.nEmbd), f("-block-size", o.blockSize),
		f("-batch-size", o.batchSize), f("-grad-accum", o.gradAccum), f("-log-interval", o.logInterval))
	c.NonNegative(f("-max-iters", o.maxIters), f("-warmup", o.warmup), f("-lr-decay-iters", o.lrDecayIters), f("-eval-interval", o.evalInterval),
		f("-eval-iters", o.evalIters), f("-sample-len", o.sampleLen), f("-top-k", o.topK), f("-threads", o.threads))
	c.That(o.nHead <= 0 || o.nEmbd%o.nHead == 0, "-n-embd %d is not divisible by -n-head %d", o.nEmbd, o.nHead)
	c.LR("-lr", o.lr)
	c.NonNegativeFloat("-min-lr", o.minLR)
	c.NonNegativeFloat("-weight-decay", o.weightDecay)
	c.Probability("-beta1", o.beta1)
	c.Probability("-beta2", o.beta2)
	c.NonNegativeFloat("-grad-clip", o.gradClip)
	c.Probability("-dropout", o.dropout)
	c.NonNegativeFloat("-temperature", o.temperature)
	c.That(o.out != "", "-out must name a directory")
	c.That(o.rng == "pytorch" || o.rng == "pcg", "-rng must be pytorch or pcg, got %q", o.rng)
	c.That(o.tokenizer == "char" || o.tokenizer == "bpe" || o.tokenizer == "gpt2" || o.tokenizer == "model", "-tokenizer must be char, bpe, gpt2 or model, got %q", o.tokenizer)
	c.That(o.initFrom == "" || o.tokenizer == "gpt2" || o.tokenizer == "model", "-init-from needs -tokenizer gpt2 (a GPT-2 reads GPT-2 tokens) or model (the directory's own tokenizer)")
	c.That(o.initFrom != "" || o.tokenizer != "model", "-tokenizer model needs -init-from DIR, whose tokenizer it is")
	c.NonNegative(f("-lora-rank", o.loraRank))
	c.NonNegativeFloat("-lora-alpha", o.loraAlpha)
	c.That(o.loraRank == 0 || o.initFrom != "", "-lora-rank fine-tunes a pretrained model: it needs -init-from DIR")
	c.That(o.exportLoRA == "" || o.loraRank > 0, "-export-lora writes LoRA adapters: it needs -lora-rank")
	c.That(o.tokenizer != "bpe" || o.bpeVocab >= 256, "-bpe-vocab must be at least 256 (the single bytes), got %d", o.bpeVocab)
	_, err := tensor.ParsePrecision(o.precision)
	c.That(err == nil, "-precision: %v", err)
	_, err = model.ParseWeightFormat(o.weights)
	c.That(err == nil, "-weights: %v", err)
	c.That(o.lrDecayIters == 0 || o.lrDecayIters >= o.warmup, "-lr-decay-iters %d is before the end of the warmup (%d)", o.lrDecayIters, o.warmup)
	return c.Err()
}

func (o *options) modelConfig(vocab int) model.Config {
	return model.Config{
		VocabSize: vocab, BlockSize: o.blockSize, NLayer: o.nLayer, NHead: o.nHead, NEmbd: o.nEmbd,
		Dropout: float32(o.dropout), NoBias: !o.bias,
	}
}

// summary is the JSON line printed at the end, for scripts.
type summary struct {
	Iters        int      `json:"iters"`
	MsPerIter    float64  `json:"ms_per_iter_median"`
	TokensPerSec float64  `json:"tokens_per_s"`
	TrainLoss    *float64 `json:"train_loss"` // null without evaluation (-eval-iters 0)
	ValLoss      *float64 `json:"val_loss"`
	Params       int      `json:"params"`
	WallSeconds  float64  `json:"wall_s"`
}

func main() {
	// SIGTERM, what kill, systemd and container runtimes send, stops training as Ctrl-C does.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "shakespeare:", err)
		os.Exit(1)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	wall := time.Now()
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	tensor.SetWorkers(o.threads)
	precision, _ := tensor.ParsePrecision(o.precision) // validated
	tensor.SetMatMulPrecision(precision)
	defer tensor.SetMatMulPrecision(tensor.Float32)
	if precision == tensor.BF16 && !tensor.BF16Native() {
		fmt.Fprintln(stdout, "precision: this CPU has no AVX512-BF16, so the matrix products stay float32")
	}
	// A checkpoint directory that cannot be written fails now, not after the first evaluation
	// (and -resume of a directory without a checkpoint does not create it).
	if o.resume {
		if _, err := os.Stat(filepath.Join(o.out, checkpoint.File)); err != nil {
			return fmt.Errorf("-resume: %w", err)
		}
	}
	if err := checkpoint.CheckDir(o.out); err != nil {
		return fmt.Errorf("-out %s cannot hold a checkpoint: %w", o.out, err)
	}

	text, source := shakespeare, "tiny Shakespeare (embedded)"
	if o.data != "" {
		b, err := os.ReadFile(o.data)
		if err != nil {
			return err
		}
		text, source = string(b), o.data
	}
	data, err := newDataset(ctx, text, o.blockSize, o.tokenizer, o.bpeVocab, o.initFrom)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	unit := "characters"
	if o.tokenizer != "char" {
		unit = o.tokenizer + " tokens"
	}
	fmt.Fprintf(stdout, "data: %s, %d %s, vocabulary %d, train %d, val %d\n",
		source, len(data.train)+len(data.val), unit, data.tok.VocabSize(), len(data.train), len(data.val))

	cfg := o.modelConfig(data.tok.VocabSize())
	if err := cfg.Validate(); err != nil {
		return err
	}
	var ck *checkpoint.Checkpoint
	if o.resume {
		if ck, err = checkpoint.Load(o.out); err != nil {
			return err
		}
		if ck.Meta["vocab"] != data.vocabID {
			return fmt.Errorf("the checkpoint in %s was trained on another vocabulary (this text and -tokenizer give %d tokens): pass the same -data and -tokenizer", o.out, data.tok.VocabSize())
		}
		if saved := cmp.Or(ck.Meta["rng"], "pcg"); saved != o.rng { // checkpoints from before -rng used pcg
			return fmt.Errorf("the checkpoint in %s was trained with -rng %s: pass -rng %s to resume it", o.out, saved, saved)
		}
		// Resuming past the end would save the run as if it had stopped earlier: refuse, and leave
		// the checkpoint as it is.
		if ck.Step > o.maxIters {
			return fmt.Errorf("the checkpoint in %s is at iteration %d, past -max-iters %d (which counts the iterations before -resume too): pass -max-iters %d or more", o.out, ck.Step, o.maxIters, ck.Step)
		}
		if err := o.checkResumedAdapters(ck); err != nil {
			return err
		}
	}
	rnd := newRandomness(o.rng, o.seed)
	var m *model.GPT
	switch {
	case ck != nil:
		if m, err = ck.GPT(); err == nil {
			want := m.Config
			want.Dropout = cfg.Dropout // dropout may change between runs; the shapes may not
			// with -init-from, the flags never described the model: no note
			if want != cfg && o.initFrom == "" {
				fmt.Fprintf(stdout, "resume: using the checkpoint's model config %+v instead of the flags'\n", want)
			}
			cfg = want
			err = m.SetDropout(cfg.Dropout)
		}
		if err == nil && m.LoRA() != nil {
			describeLoRA(stdout, m)
		}
	case o.initFrom != "":
		if m, err = loadPretrained(o); err == nil {
			cfg = m.Config
			fmt.Fprintf(stdout, "fine-tuning %s\n", o.initFrom)
			if v := data.tok.VocabSize(); v > cfg.VocabSize {
				err = fmt.Errorf("the tokenizer has %d tokens, more than the %d of the model in %s", v, cfg.VocabSize, o.initFrom)
			}
		}
		if err == nil && o.loraRank > 0 {
			if m, err = m.WithLoRA(o.loraConfig()); err == nil {
				describeLoRA(stdout, m)
			}
		}
	default:
		m, err = rnd.newModel(cfg, o.seed)
	}
	if err != nil {
		return err
	}
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{
		LR: float32(o.lr), Betas: [2]float32{float32(o.beta1), float32(o.beta2)}, WeightDecay: float32(o.weightDecay),
	})
	start := 0
	if ck != nil {
		if err := ck.Restore(m, opt); err != nil {
			return err
		}
		if err := ck.RestoreRNG("data", rnd.batches); err != nil {
			return err
		}
		start = ck.Step
		fmt.Fprintf(stdout, "resumed from %s at iteration %d\n", o.out, start)
		if saved, ok := ck.Optimizer(); ok {
			was, now := saved.Hyper, opt.Config()
			wasBetas := [2]float32{was["beta1"], was["beta2"]}
			if saved.Kind != optim.KindAdamW || wasBetas != now.Betas || was["eps"] != now.Eps || was["weight_decay"] != now.WeightDecay {
				fmt.Fprintf(stdout, "resume: the checkpoint was trained with betas %v, eps %g, weight decay %g; continuing with %v, %g, %g\n",
					wasBetas, was["eps"], was["weight_decay"], now.Betas, now.Eps, now.WeightDecay)
			}
		}
	}
	batchDesc := fmt.Sprint(o.batchSize)
	if o.gradAccum > 1 {
		batchDesc = fmt.Sprintf("%d×%d (accumulated)", o.gradAccum, o.batchSize)
	}
	fmt.Fprintf(stdout, "model: %d layers, %d heads, %d wide, block %d, %d parameters; batch %s, %d iterations\n",
		cfg.NLayer, cfg.NHead, cfg.NEmbd, cfg.BlockSize, m.NumParams(), batchDesc, o.maxIters)

	decayIters := o.lrDecayIters
	if decayIters == 0 {
		decayIters = o.maxIters
	}
	tr := &trainer{
		cfg: trainConfig{
			BatchSize: o.batchSize, BlockSize: cfg.BlockSize, MaxIters: o.maxIters,
			EvalInterval: o.evalInterval, EvalIters: o.evalIters, LogInterval: o.logInterval,
			GradClip: float32(o.gradClip), GradAccum: o.gradAccum,
			Schedule: optim.CosineSchedule{WarmupIters: o.warmup, DecayIters: decayIters, MaxLR: float32(o.lr), MinLR: float32(o.minLR)},
		},
		m: m, opt: opt, data: data, windows: rnd.windows,
		eval: map[string][]batch{
			"train": evalBatches(data.train, o.evalIters, o.batchSize, cfg.BlockSize, rnd.evalWindows()),
			"val":   evalBatches(data.val, o.evalIters, o.batchSize, cfg.BlockSize, rnd.evalWindows()),
		},
		log: &progress{w: stdout, tty: isTerminal(stdout)},
	}
	tr.save = func(step int) error {
		err := trainloop.SaveFinite(m.Parameters(), func() error {
			return checkpoint.Save(o.out, m, checkpoint.State{
				Step: step, Optimizer: opt, RNGs: map[string]checkpoint.RNGState{"data": rnd.batches},
				Meta: map[string]string{"vocab": data.vocabID, "tokenizer": o.tokenizer, "data": source, "rng": o.rng},
			})
		})
		if err == nil {
			tr.log.linef("saved checkpoint at iteration %d to %s", step, o.out)
		}
		return err
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	final, err := tr.run(ctx, start)
	if err != nil {
		return err
	}
	if trained != nil {
		trained(m)
	}
	pprof.StopCPUProfile()

	if o.plot != "" {
		if err := plotLosses(o.plot, tr); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "drew the losses in %s\n", o.plot)
	}
	if o.exportLoRA != "" {
		if err := model.SaveLoRA(m, o.exportLoRA); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "exported the adapters alone in PEFT's layout to %s\n", o.exportLoRA)
	}
	if o.exportHF != "" {
		if err := model.SaveHF(m, o.exportHF); err != nil {
			return err
		}
		if o.initFrom != "" {
			if err := copyHubFiles(o.initFrom, o.exportHF); err != nil {
				return err
			}
		}
		what := "the model"
		if m.LoRA() != nil {
			what = "the model, its adapters merged,"
		}
		fmt.Fprintf(stdout, "exported %s in Hugging Face's layout to %s\n", what, o.exportHF)
	}
	sampler := m
	if weights, _ := model.ParseWeightFormat(o.weights); weights != model.Float32 {
		if sampler, err = m.Compact(weights); err != nil {
			return err
		}
		if o.evalIters > 0 {
			l, err := tr.meanLoss(sampler, "val")
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "val loss with %v weights: %.4f (float32 %.4f, change %+.4f)\n", weights, l, final.Val, l-final.Val)
		}
	}
	if o.sampleLen > 0 {
		if err := printSample(ctx, stdout, sampler, data.tok, o); err != nil {
			return err
		}
	}
	med := tr.medianIter(20)
	s := summary{
		Iters: len(tr.iterTimes), MsPerIter: float64(med.Microseconds()) / 1000,
		Params: m.NumParams(), WallSeconds: time.Since(wall).Seconds(),
	}
	if o.evalIters > 0 {
		s.TrainLoss, s.ValLoss = &final.Train, &final.Val
	}
	if med > 0 {
		s.TokensPerSec = float64(o.gradAccum*o.batchSize*cfg.BlockSize) / med.Seconds()
	}
	js, err := json.Marshal(s)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(js))
	return nil
}

// loadPretrained loads the GPT-2 of -init-from for fine-tuning, as nanoGPT's init_from does: the
// context cropped to -block-size and the dropout set to -dropout.
func loadPretrained(o *options) (*model.GPT, error) {
	m, err := model.LoadHF(o.initFrom)
	if err != nil {
		return nil, err
	}
	if o.blockSize > m.Config.BlockSize {
		return nil, fmt.Errorf("-block-size %d is longer than the context of %s (%d)", o.blockSize, o.initFrom, m.Config.BlockSize)
	}
	if err := m.CropBlockSize(o.blockSize); err != nil {
		return nil, err
	}
	if err := m.SetDropout(float32(o.dropout)); err != nil {
		return nil, err
	}
	return m, nil
}

// printSample streams sampleLen generated tokens, starting from a newline as nanoGPT does.
func printSample(ctx context.Context, w io.Writer, m *model.GPT, tok vocabulary, o *options) error {
	prompt := tok.Encode("\n")
	if len(prompt) == 0 {
		prompt = []int{0}
	}
	fmt.Fprintln(w, "sample:")
	fmt.Fprintln(w, "----------")
	for id, err := range m.Generate(ctx, prompt, model.Sampling{
		MaxNew: o.sampleLen, Temperature: float32(o.temperature), TopK: o.topK, Seed: o.seed,
	}) {
		if err != nil {
			return err
		}
		b, err := tok.TokenBytes(id)
		if err != nil {
			return err
		}
		w.Write(b)
	}
	fmt.Fprintln(w, "\n----------")
	return nil
}
