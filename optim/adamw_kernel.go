package optim

import "math"

// adamwConsts are one parameter's scalars for an AdamW update, in the order the vector kernel
// reads them.
type adamwConsts struct {
	decayMul, w1, beta2, w2, bc2Sqrt, eps, stepSize float32
}

// adamwKernel applies one AdamW update to equal-length slices: the vector kernel where the CPU
// has one (adamwVector), then adamwGo for what is left. Both give the same bits.
func adamwKernel(p, g, m, v []float32, c *adamwConsts) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	done := adamwVector(p, g, m, v, c)
	adamwGo(p[done:], g[done:], m[done:], v[done:], c)
}

// adamwGo is the update in Go. The operations and their order mirror PyTorch's float32 CPU
// kernels (param.mul_, exp_avg.lerp_, exp_avg_sq.mul_().addcmul_(), sqrt/div/add for the
// denominator, addcdiv_) so that results agree to the last bit or two. Every product is rounded
// to float32 by an explicit conversion, which keeps the compiler from fusing it into a
// multiply-add on CPUs that have one: the vector kernel rounds each operation the same way.
func adamwGo(p, g, m, v []float32, c *adamwConsts) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n] // one bounds check here instead of one per element below
	for j := range n {
		gj := g[j]
		pj := float32(p[j] * c.decayMul)
		mj := m[j] + float32(c.w1*(gj-m[j])) // lerp toward g with weight 1−β1 < 0.5, PyTorch's branch
		vj := float32(v[j]*c.beta2) + float32(float32(c.w2*gj)*gj)
		denom := float32(math.Sqrt(float64(vj)))/c.bc2Sqrt + c.eps
		p[j] = pj - float32(c.stepSize*(mj/denom))
		m[j], v[j] = mj, vj
	}
}
