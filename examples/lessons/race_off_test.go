//go:build !race

package main

// raceEnabled says the tests run under the race detector, which slows training a hundredfold.
const raceEnabled = false
