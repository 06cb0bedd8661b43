//go:build race

package main

// raceEnabled says the tests run under the race detector, where a training step of even a tiny
// model is a hundred times slower: the tests that train then train less.
const raceEnabled = true
