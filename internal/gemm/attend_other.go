//go:build !amd64 || purego

package gemm

const attendVector = false

func scoresAVX512(hs int, q, k *float32, ldk, n int, s *float32) {
	panic("gemm: no vector attention kernels on this build")
}

func weightedAVX512(hs int, p *float32, n int, v *float32, ldv int, y *float32) {
	panic("gemm: no vector attention kernels on this build")
}
