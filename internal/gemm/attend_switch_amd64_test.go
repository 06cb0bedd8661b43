//go:build amd64 && !purego

package gemm

// vectorChoices lists the kernel paths this machine can run.
func vectorChoices() []bool {
	if attendVector {
		return []bool{true, false}
	}
	return []bool{false}
}

// setAttendVector selects a path and returns what restores the machine's.
func setAttendVector(on bool) func() {
	old := attendVector
	attendVector = on
	return func() { attendVector = old }
}
