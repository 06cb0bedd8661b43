//go:build !race

package tokenizer

// raceEnabled says the tests run under the race detector, whose instrumentation changes what
// code costs relative to other code, so timing comparisons mean nothing there.
const raceEnabled = false
