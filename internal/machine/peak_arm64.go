//go:build arm64 && !purego

package machine

const haveFMAAsm = true

// fmaNEON (peak_arm64.s) runs iters iterations of acc[c] += x·y on 24 vector chains.
//
//go:noescape
func fmaNEON(iters int, x, y float32, acc *float32)

func fmaAsm(w Width, iters int, x, y float32, acc []float32) {
	if w != NEON {
		panic("machine: no " + string(w) + " loop on arm64")
	}
	fmaNEON(iters, x, y, &acc[0])
}
