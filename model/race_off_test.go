//go:build !race

package model

// raceEnabled says the tests run under the race detector, which changes allocation behaviour
// (sync.Pool drops items at random).
const raceEnabled = false
