//go:build !unix

package hf_test

import "time"

// cpuTime is 0 where the process's CPU time is not read, and the benchmarks then report wall time only.
func cpuTime() time.Duration { return 0 }
