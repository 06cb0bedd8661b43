#!/bin/sh
# Cross-checks bench/machine (Go assembly) against C loops compiled with gcc, alternating them
# twice so that load from other processes affects both alike:
#   - ../shared/bench/fma_peak.c as it is, whose 12 identical chains gcc -O2 merges into one
#     (it then reports one FMA per latency counted twelve times: too high, kept for comparison);
#   - bench/fma_peak_chains.c, the same loop with distinct chains and best-of-short-samples timing;
#   - ../shared/bench/stream_read.c, the streaming read bandwidth.
# Usage: bench/machine_check.sh [path/to/shared/bench]   (run from the repository root)
set -e
shared=${1:-../shared/bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
isa="-mavx512f -mfma"
grep -qw avx512f /proc/cpuinfo || isa="-mavx2 -mfma -DNO512"
gcc -O2 $isa -fopenmp "$shared/fma_peak.c" -o "$tmp/fma_peak"
gcc -O2 $isa -fopenmp bench/fma_peak_chains.c -o "$tmp/fma_peak_chains"
gcc -O2 -mavx2 -fopenmp "$shared/stream_read.c" -o "$tmp/stream_read"
go build -o "$tmp/machine" ./bench/machine
n=$(nproc)
echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fma_peak.c: vector FMAs in its loop after gcc -O2 (12 written):" \
	"$(objdump -d --no-show-raw-insn "$tmp/fma_peak" | grep -c 'vfmadd.*zmm') zmm," \
	"$(objdump -d --no-show-raw-insn "$tmp/fma_peak" | grep -c 'vfmadd.*ymm') ymm"
for round in 1 2; do
	echo "--- round $round"
	"$tmp/machine"
	for t in 1 $n; do
		OMP_NUM_THREADS=$t "$tmp/fma_peak_chains"
		OMP_NUM_THREADS=$t "$tmp/fma_peak" | sed 's/^/fma_peak.c (merged chains): /'
		OMP_NUM_THREADS=$t "$tmp/stream_read"
	done
done
echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
