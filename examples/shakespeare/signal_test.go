package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/checkpoint"
)

// TestMain runs the command itself, instead of the tests, in a process that a test started with
// runMainEnv set: the tests of signals need a process to signal.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const runMainEnv = "GOFORMER_SHAKESPEARE_RUN_MAIN"

// SIGTERM (what kill, systemd and container runtimes send) stops training like Ctrl-C does:
// the run saves a checkpoint at the iteration reached and exits, and -resume continues it.
func TestSIGTERMSavesAndExits(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no SIGTERM to send")
	}
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], smallArgs(dir, "1000000", "-sample-len", "0", "-eval-interval", "0", "-log-interval", "1")...)
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() {
				// signal once training is under way, then drain the output
				lines := bufio.NewScanner(stdout)
				signalled := false
				for lines.Scan() {
					if !signalled && strings.HasPrefix(lines.Text(), "iter 3/") {
						assert.NoError(t, cmd.Process.Signal(sig))
						signalled = true
					}
				}
				done <- cmd.Wait()
			}()
			select {
			case err = <-done:
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				t.Fatal("the run did not stop")
			}
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "stderr: %s", stderr.String())
			assert.Equal(t, 1, exit.ExitCode(), "an orderly exit, not death by signal; stderr: %s", stderr.String())
			assert.Contains(t, stderr.String(), "interrupted at iteration")
			ck, err := checkpoint.Load(dir)
			require.NoError(t, err, "a checkpoint was saved")
			assert.GreaterOrEqual(t, ck.Step, 3)
		})
	}
}
