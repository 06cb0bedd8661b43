# Sourced by the bench scripts before they run PyTorch (bash or sh): makes sure OpenBLAS uses
# kernels for this CPU. Debian 12's OpenBLAS 0.3.21 does not recognise some newer CPUs (Intel
# family 6 model 207, for one) and falls back to "Prescott", its generic kernels, which makes
# torch.mm ~5× slower: then OPENBLAS_CORETYPE is set to SkylakeX (a CPU with AVX-512) or Haswell
# (AVX2), and a line says so, to be quoted beside every PyTorch figure. An OPENBLAS_CORETYPE
# already set is kept. PYTHON overrides the interpreter (default /usr/bin/python3).
openblas_core() {
	OPENBLAS_VERBOSE=2 "${PYTHON:-/usr/bin/python3}" -c \
		'import torch; torch.ones(64, 64) @ torch.ones(64, 64)' 2>&1 |
		sed -n 's/^Core: *//p' | head -n 1
}
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
	echo "openblas: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE set by the caller (OpenBLAS core: $(openblas_core))"
else
	_core=$(openblas_core)
	if [ "$_core" = "Prescott" ]; then
		if grep -qw avx512f /proc/cpuinfo; then
			OPENBLAS_CORETYPE=SkylakeX
		elif grep -qw avx2 /proc/cpuinfo; then
			OPENBLAS_CORETYPE=Haswell
		fi
		if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
			export OPENBLAS_CORETYPE
			echo "openblas: does not recognise this CPU (Core: Prescott, its generic kernels); set OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE for the PyTorch runs (now Core: $(openblas_core))"
		else
			echo "openblas: Core: Prescott (generic kernels) and no AVX2 to pick a better one: PyTorch figures are understated"
		fi
	else
		echo "openblas: Core: ${_core:-unknown} (OPENBLAS_CORETYPE not needed)"
	fi
	unset _core
fi
