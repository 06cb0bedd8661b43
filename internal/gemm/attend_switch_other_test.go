//go:build !amd64 || purego

package gemm

func vectorChoices() []bool { return []bool{false} }

func setAttendVector(bool) func() { return func() {} }
