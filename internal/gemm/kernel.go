package gemm

// microKernel describes a register-blocked micro-kernel and the cache
// blocking that suits it. It is the one point where kernels are swapped.
type microKernel struct {
	name   string
	mr, nr int // tile computed per call
	// kc, mc, nc are the cache blocks: a kc×nr panel of B should sit in L1,
	// an mc×kc block of A in L2. mc is a multiple of mr, nc of nr.
	kc, mc, nc int
	// fn computes one full mr×nr tile from packed panels:
	//   c[i*ldc+j] (+)= Σ_{p<k} a[p*mr+i]·b[p*nr+j]
	// summing over p in order from zero, then adding to c when accumulate.
	// k >= 1; a holds mr*k and b nr*k values; c must hold the whole tile.
	fn func(k int, a, b, c []float32, ldc int, accumulate bool)
	// fnNarrow, if set, computes only the first nrNarrow columns of a tile
	// (reading B with the full nr panel stride). It serves the last column
	// panel when few of its columns are real, as for n = 65.
	nrNarrow int
	fnNarrow func(k int, a, b, c []float32, ldc int, accumulate bool)
	// fnS and fnNarrowS, if set, are fn and fnNarrow reading the A panel
	// with strides: element (i, p) at a[i*rsa+p*csa]. With rsa = 1 and
	// csa = mr that is the packed panel (the assembly kernels' fn is exactly
	// that call); with the strides of the caller's A it reads op(A) in
	// place, so full row panels need no packing.
	fnS, fnNarrowS func(k int, a []float32, rsa, csa int, b, c []float32, ldc int, accumulate bool)
	// edge, if set, is a kernel with fewer rows and the same nr that takes
	// the rows left over below the last full mr-row panel when they fit it
	// (for m = 128 a 12-row kernel does 10 panels and an 8-row one the last
	// 8 rows, rather than 12 rows of which 4 are padding).
	edge *microKernel
}

// activeKernel is the kernel chosen at init for this CPU (see kernel_amd64.go
// and kernel_other.go), possibly replaced by a faster candidate at the first
// product (tune.go): read it through tunedKernel.
var activeKernel *microKernel

// genericKernel is the pure-Go fallback, also used by tests on every machine.
var genericKernel = &microKernel{
	name: "generic4x4",
	mr:   4, nr: 4,
	kc: 256, mc: 128, nc: 1024,
	fn: kernelGeneric4x4,
}

// forRows returns the kernel to use for products of m rows: kn, or its edge
// kernel when that covers m with fewer padded rows (m = 64: eight 8-row
// panels rather than five 12-row ones and a padded 8-row one). The two
// compute every element the same way, so the choice never changes results.
func (kn *microKernel) forRows(m int) *microKernel {
	if kn.edge == nil {
		return kn
	}
	if kn.edge.paddedRows(m) < kn.paddedRows(m) {
		return kn.edge
	}
	return kn
}

// paddedRows is how many rows kn computes for a product of m rows: whole
// mr-row panels, the last one through the edge kernel where it fits.
func (kn *microKernel) paddedRows(m int) int {
	full := m / kn.mr * kn.mr
	switch rem := m - full; {
	case rem == 0:
		return full
	case kn.edge != nil && rem <= kn.edge.mr:
		return full + kn.edge.paddedRows(rem)
	}
	return full + kn.mr
}

// KernelName reports which micro-kernel this process uses, for benchmarks
// and logs.
func KernelName() string { return tunedKernel().name }

// KernelNames lists the micro-kernels this CPU can run (the pure-Go one
// first), for tools that compare them.
func KernelNames() []string {
	var names []string
	for _, kn := range supportedKernels() {
		names = append(names, kn.name)
	}
	return names
}

// UseKernel makes the named kernel the one every later product uses, and
// reports whether this CPU can run it. It is for benchmarks that compare
// kernels in one process (GOFORMER_SGEMM_KERNEL does the same at start-up);
// it must not be called while products run.
func UseKernel(name string) bool {
	tunedKernel() // so that the first product does not time the candidates and undo this
	for _, kn := range supportedKernels() {
		if kn.name == name {
			activeKernel = kn
			return true
		}
	}
	return false
}
