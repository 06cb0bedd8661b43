//go:build (!amd64 && !arm64) || purego

package machine

const haveFMAAsm = false

func fmaAsm(w Width, iters int, x, y float32, acc []float32) {
	panic("machine: no assembly " + string(w) + " loop in this build")
}
