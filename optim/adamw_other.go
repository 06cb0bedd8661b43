//go:build !amd64 || purego

package optim

var adamwVectorOn = false

// adamwVector has no vector kernel here: adamwGo does all the work.
func adamwVector(p, g, m, v []float32, c *adamwConsts) int { return 0 }
