// Package optim updates the parameters of a model from their gradients: the Optimizer interface,
// SGD with momentum and AdamW with decoupled weight decay and decay groups that implement it, a
// warmup-then-cosine learning-rate schedule, and gradient clipping and scaling.
//
// Parameters are *autograd.Var values. An optimiser reads each parameter's Grad (after
// Backward) and updates its Value in place; a parameter whose Grad is nil had no gradient this step
// and is left alone, as PyTorch does, including its per-parameter step count.
//
// The update rules follow PyTorch's (torch.optim.SGD, torch.optim.AdamW, clip_grad_norm_) so
// that a model trained here can be compared with one trained there, and so that nanoGPT's recipes
// carry over:
//
//	opt := optim.NewAdamW(params, optim.AdamWConfig{LR: 6e-4, Betas: [2]float32{0.9, 0.95}, WeightDecay: 0.1})
//	sched := optim.CosineSchedule{WarmupIters: 100, DecayIters: 5000, MaxLR: 6e-4, MinLR: 6e-5}
//	for it := range iters {
//		loss := lossOf(batch(it))
//		loss.Backward()
//		optim.ClipGradNorm(params, 1.0) // returns the norm before clipping, to log or check
//		opt.SetLR(sched.LR(it))
//		opt.Step()
//		opt.ZeroGrad()
//	}
//
// # Gradient accumulation
//
// Backward adds into Grad, so gradients of several micro-batches accumulate by themselves: call
// Backward once per micro-batch and Step once at the end. To get the gradient of the mean loss
// over the whole batch, scale each micro-batch's loss by 1/n (autograd.Scale(loss, 1/n)) before
// Backward, as nanoGPT does, or call ScaleGrads(params, 1/n) once before clipping and stepping.
//
// # Checkpoints
//
// Optimizer.State returns a copy of an optimiser's state in a form every optimiser shares (State:
// its kind, hyperparameters, per-parameter step counts and slot tensors such as AdamW's moments),
// and LoadState restores it into an optimiser built over parameters of the same shapes, so that
// training resumed from a checkpoint continues bit for bit as if it had never stopped. Package
// checkpoint saves it beside the model, by parameter name.
//
// # Numerics
//
// Updates are computed element by element in float32, as PyTorch does for float32 parameters;
// scalars that depend only on the step (bias corrections, step sizes) and norms are computed in
// float64. Large updates are split across tensor.Workers() goroutines by element ranges, which
// does not change any result.
package optim
