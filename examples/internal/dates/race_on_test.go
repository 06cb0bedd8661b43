//go:build race

package dates

// raceEnabled says the tests run under the race detector, which slows training a hundredfold.
const raceEnabled = true
