package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -plot draws the losses into a PNG file: with evaluations, and with only the batch losses.
func TestPlotDrawsTheLosses(t *testing.T) {
	for _, extra := range [][]string{{"-eval-interval", "10"}, {"-eval-iters", "0"}} {
		path := filepath.Join(t.TempDir(), "loss.png")
		args := append(smallArgs(t.TempDir(), "20", "-sample-len", "0", "-plot", path), extra...)
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), args, &out, &errOut), "stderr: %s", errOut.String())
		assert.Contains(t, out.String(), "drew the losses in "+path)
		f, err := os.Open(path)
		require.NoError(t, err)
		img, err := png.Decode(f)
		f.Close()
		require.NoError(t, err)
		assert.Greater(t, img.Bounds().Dx(), 600)
		assert.Greater(t, img.Bounds().Dy(), 400)
	}
}
