// Package machine measures the limits of the computer it runs on, so that a speed figure can be
// given as a share of what the machine can do: the floating-point peak of one core and of all
// cores (fused multiply-adds with enough independent chains to keep every FMA unit busy), and the
// streaming read bandwidth from memory. It also describes the CPU (brand, family and model,
// caches) as internal/cpufeat reads it from CPUID.
//
//	fmt.Println(machine.Describe())
//	for _, w := range machine.PeakWidths() {
//		fmt.Println(w, machine.FMAPeak(w, 1, time.Second)) // GFLOP/s on one core
//	}
//	fmt.Println(machine.ReadBandwidth(runtime.NumCPU(), 1<<30)) // GB/s
//
// The machines this library is measured on are shared and noisy, so every measurement here is
// the best of many short samples: a sample that another process interrupted is slower, never
// faster, so the best one is the machine's own speed. bench/machine prints all of it.
package machine
