//go:build amd64 && !purego

package machine

const haveFMAAsm = true

// fmaZMM and fmaYMM (peak_amd64.s) run iters iterations of acc[c] += x·y on 24 ZMM or 14 YMM
// chains; see fmaLoop.
//
//go:noescape
func fmaZMM(iters int, x, y float32, acc *float32)

//go:noescape
func fmaYMM(iters int, x, y float32, acc *float32)

func fmaAsm(w Width, iters int, x, y float32, acc []float32) {
	switch w {
	case ZMM:
		fmaZMM(iters, x, y, &acc[0])
	case YMM:
		fmaYMM(iters, x, y, &acc[0])
	default:
		panic("machine: no " + string(w) + " loop on amd64")
	}
}
