package dates

import "testing"

// skipUnderRace skips a test that trains a model: the race detector makes it take minutes, and
// these programs' concurrency is the library's, which its own packages test under -race.
func skipUnderRace(t *testing.T) {
	if raceEnabled {
		t.Skip("trains a model: too slow under the race detector")
	}
}
