package checkpoint

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

// The crash test kills a training process with SIGKILL at random moments while it saves a
// checkpoint after every step, many times over, and checks each time that the directory holds a
// checkpoint that loads, equals the state of the step it names bit for bit, and resumes to the
// same next step as a run that was never interrupted.

const crashDirEnv = "GOFORMER_CRASH_TEST_DIR"

func crashConfig() model.Config {
	return model.Config{VocabSize: 23, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 32, Dropout: 0.1}
}

func newCrashRun(t testing.TB) (*model.GPT, optim.Optimizer, *rand.PCG) {
	m := newGPT(t, crashConfig(), 1)
	return m, optimizers[0].make(m), rand.NewPCG(5, 6)
}

// TestCrashChild is the process that gets killed: it trains and saves after every step until it
// is. It runs only when the crash test starts it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestKilledDuringSaveLeavesALoadableCheckpoint")
	}
	m, opt, data := newCrashRun(t)
	for it := 0; it < 100000; it++ {
		trainRange(t, m, opt, data, it, it+1)
		if err := Save(dir, m, State{Step: it + 1, Optimizer: opt, RNGs: map[string]RNGState{"data": data}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKilledDuringSaveLeavesALoadableCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills many processes")
	}
	if raceEnabled {
		// training, not saving, takes nearly all of a step's time there: the kills would test
		// little, and the test is about processes dying, not about data races
		t.Skip("not under the race detector")
	}
	// the uninterrupted run, step by step, as far as the kills get
	ref, refOpt, refData := newCrashRun(t)
	var refBits []map[string][]uint32 // refBits[k]: parameters after k steps
	refBits = append(refBits, paramBits(ref))
	refAt := func(k int) map[string][]uint32 {
		for len(refBits) <= k {
			n := len(refBits) - 1
			trainRange(t, ref, refOpt, refData, n, n+1)
			refBits = append(refBits, paramBits(ref))
		}
		return refBits[k]
	}

	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	began := time.Now()
	rounds, midSave := 0, 0
	// 10 to 40 rounds in about 8 s; on a loaded machine, where a kill may miss every save, go on
	// (up to 40 s) until one has landed during a save
	more := func() bool {
		if rounds < 40 && (rounds < 10 || time.Since(began) < 8*time.Second) {
			return true
		}
		return midSave == 0 && rounds < 200 && time.Since(began) < 40*time.Second
	}
	for more() {
		rounds++
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		require.NoError(t, cmd.Start())
		// let it reach its saves (a first checkpoint exists, or an earlier round's), then kill it
		// at a random moment
		for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(time.Millisecond) {
			if _, err := os.Stat(filepath.Join(dir, File)); err == nil {
				break
			}
		}
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		require.NoError(t, cmd.Process.Kill()) // SIGKILL: no chance to clean up
		_ = cmd.Wait()
		if hasTempFiles(t, dir) {
			midSave++
		}

		ck, err := Load(dir)
		require.NoError(t, err, "round %d: the checkpoint must load after a kill", rounds)
		m, err := ck.GPT()
		require.NoError(t, err)
		require.Equal(t, refAt(ck.Step), paramBits(m), "round %d: the checkpoint holds step %d's parameters", rounds, ck.Step)

		// resume one step, exactly as the uninterrupted run went on
		opt := optimizers[0].make(m)
		require.NoError(t, ck.Restore(m, opt))
		data := rand.NewPCG(0, 0)
		require.NoError(t, ck.RestoreRNG("data", data))
		trainRange(t, m, opt, data, ck.Step, ck.Step+1)
		assert.Equal(t, refAt(ck.Step+1), paramBits(m), "round %d: resuming from step %d", rounds, ck.Step)
	}
	t.Logf("%d kills, %d of them with a save under way (temporary files left), all recovered", rounds, midSave)
	assert.Positive(t, midSave, "some kills should land during a save, or the test proves little")
}

// hasTempFiles reports whether dir holds files a save had not finished with: a temporary
// checkpoint.json, or a tensor file other than the one checkpoint.json names.
func hasTempFiles(t *testing.T, dir string) bool {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	tensors := 0
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			return true
		}
		if strings.HasPrefix(e.Name(), "state-") {
			tensors++
		}
	}
	return tensors > 1
}
