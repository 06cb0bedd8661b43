// The machine's FP32 FMA peak measured in C, to cross-check bench/machine (Go assembly).
//
// It differs from ../shared/bench/fma_peak.c in two ways, both needed for a true figure:
//  - every chain starts from its own value, read through a volatile, so the compiler cannot
//    merge them: in fma_peak.c the 12 chains are identical expressions and gcc -O2 computes one
//    (see its disassembly: a single vfmadd132ps in the loop), so it times one dependent chain
//    (one FMA per latency) and counts it twelve times, 1.5× the real peak on a CPU with two FMA
//    units of latency 4, 3× on a Zen 4 (one 512-bit FMA per cycle);
//  - each figure is the best of many ~0.1 ms samples rather than of five 40M-iteration runs,
//    so a shared, busy machine still shows its own speed.
//   gcc -O2 -mavx512f -mfma -fopenmp fma_peak_chains.c -o /tmp/fma_peak_chains && OMP_NUM_THREADS=1 /tmp/fma_peak_chains
// (on a CPU without AVX-512: gcc -O2 -mavx2 -mfma -DNO512 -fopenmp ...)
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static volatile float init[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static volatile float xv = 0.999999f, yv = 1e-7f;
#define CHAINS(T, FMA, SET)                                                                              \
  T a0 = SET(init[0]), a1 = SET(init[1]), a2 = SET(init[2]), a3 = SET(init[3]), a4 = SET(init[4]),       \
    a5 = SET(init[5]), a6 = SET(init[6]), a7 = SET(init[7]), a8 = SET(init[8]), a9 = SET(init[9]),       \
    a10 = SET(init[10]), a11 = SET(init[11]), a12 = SET(init[12]), a13 = SET(init[13]), x = SET(xv),     \
    y = SET(yv);                                                                                         \
  for (long i = 0; i < iters; i++) {                                                                     \
    a0 = FMA(a0, x, y); a1 = FMA(a1, x, y); a2 = FMA(a2, x, y); a3 = FMA(a3, x, y);                      \
    a4 = FMA(a4, x, y); a5 = FMA(a5, x, y); a6 = FMA(a6, x, y); a7 = FMA(a7, x, y);                      \
    a8 = FMA(a8, x, y); a9 = FMA(a9, x, y); a10 = FMA(a10, x, y); a11 = FMA(a11, x, y);                  \
    a12 = FMA(a12, x, y); a13 = FMA(a13, x, y);                                                          \
  }                                                                                                      \
  T s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13; sink += s[0];
#define CHAINCOUNT 14
int main(void) {
  const long iters = 10000, samples = 5000;
  int nt = omp_get_max_threads();
  double best512 = 1e30, best256 = 1e30, sink = 0;
#ifndef NO512
#pragma omp parallel reduction(+ : sink)
  for (int rep = 0; rep < samples; rep++) {
#pragma omp barrier
    double t = now();
    { CHAINS(__m512, _mm512_fmadd_ps, _mm512_set1_ps) }
#pragma omp barrier
#pragma omp master
    if (now() - t < best512) best512 = now() - t;
  }
#endif
#pragma omp parallel reduction(+ : sink)
  for (int rep = 0; rep < samples; rep++) {
#pragma omp barrier
    double t = now();
    { CHAINS(__m256, _mm256_fmadd_ps, _mm256_set1_ps) }
#pragma omp barrier
#pragma omp master
    if (now() - t < best256) best256 = now() - t;
  }
  printf("threads %d: zmm FMA %.1f GFLOP/s, ymm FMA %.1f GFLOP/s (%d chains, best of %ld samples)%s\n", nt,
         (double)iters * CHAINCOUNT * 16 * 2 * nt / best512 / 1e9, (double)iters * CHAINCOUNT * 8 * 2 * nt / best256 / 1e9,
         CHAINCOUNT, samples, sink == 42 ? "!" : "");
  return 0;
}
