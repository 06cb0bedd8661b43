// Package checkpoint saves a training run to a directory and resumes it exactly: the model's
// kind, config and parameters, its dropout generator, the optimizer's state (any
// optim.Optimizer), other random generators by name, the step and free-form metadata.
//
// Save a run, and resume it in a fresh process:
//
//	err := checkpoint.Save("ckpt", m, checkpoint.State{
//		Step: step, Optimizer: opt, RNGs: map[string]checkpoint.RNGState{"data": dataRNG},
//	})
//
//	ck, err := checkpoint.Load("ckpt")     // validated: checksum, names, shapes, sizes
//	m, err := ck.GPT()                     // the model, built from the checkpoint's config
//	opt := optim.NewAdamW(m.Parameters(), cfg)
//	err = ck.Restore(m, opt)               // the optimizer's state, by parameter name
//	err = ck.RestoreRNG("data", dataRNG)
//	for it := ck.Step; it < maxIters; it++ { ... }
//
// Training resumed this way continues bit for bit as if it had never stopped. Restore also
// restores into a model built some other way (of the same kind and config): everything that
// matters comes from the checkpoint. CheckDir, called when a program starts, reports a directory
// that Save could not write, before any training is spent.
//
// The directory holds checkpoint.json (the kind, config, step, generator states, optimizer
// hyperparameters and step counts, metadata, and the name and SHA-256 of the tensor file) and a
// safetensors file of the parameters, under their names, and of the optimizer's per-parameter
// tensors. Saving is atomic: the tensor file is new and synced before checkpoint.json is
// replaced, atomically, and a save that fails or is killed part-way leaves the previous
// checkpoint whole; the next successful save clears what it left behind. Load checks everything
// it reads (format and version, sizes, checksum, that the tensors are exactly the parameters the
// config calls for) and reports a problem as an error, never a panic.
//
// Any model with named parameters and a dropout generator (Model) of a kind this package knows
// can be saved; *model.GPT and *model.Transformer are, rebuilt by Checkpoint.GPT and
// Checkpoint.Transformer.
//
// A GPT with LoRA adapters (model.GPT.WithLoRA) is saved and resumed the same way. Its parameters,
// what the optimizer trains and its state refers to, are the adapters; the checkpoint holds its
// frozen base weights beside them, and the adapters' rank, alpha and targets (Checkpoint.LoRA),
// so that it is self-contained: Checkpoint.GPT rebuilds the base and puts the adapters back on
// it, and nothing else (the directory the base was loaded from) is needed to resume. Restore into
// a model with adapters made some other way (base.WithLoRA) copies the adapters and checks that
// the base is the checkpoint's, to the bit, and that the adapters are configured alike.
package checkpoint
