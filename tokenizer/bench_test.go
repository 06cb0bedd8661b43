package tokenizer_test

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/cl100k"
)

// The encode benchmarks report MB/s over tinyshakespeare (1,115,394 bytes), the figure that
// ../shared/bench/tokenizer_bench.mjs prints for tiktoken (WASM) with node.

func benchEncode(b *testing.B, enc *tokenizer.BPE) {
	text := string(readFixture(b, "", fixture.ShakespeareRel))
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		_ = enc.Encode(text)
		n++
	}
	reportCPU(b, cpu0, n, len(text))
}

// cpuTime returns the process's user+system CPU time: on a shared, busy machine it is steadier than
// wall time, and it is what tokenizer_bench.mjs reports as "cpu" for node.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, cpu0 time.Duration, n, bytes int) {
	if cpu := cpuTime() - cpu0; cpu > 0 && n > 0 {
		b.ReportMetric(float64(bytes)*float64(n)/cpu.Seconds()/1e6, "cpuMB/s")
	}
}

func BenchmarkEncodeGPT2(b *testing.B)   { benchEncode(b, encodings(b)["gpt2"]) }
func BenchmarkEncodeCL100k(b *testing.B) { benchEncode(b, encodings(b)["cl100k_base"]) }

// The batch benchmarks encode the same text cut into ~2 KB documents with EncodeBatch.
func benchBatch(b *testing.B, enc *tokenizer.BPE) {
	text := string(readFixture(b, "", fixture.ShakespeareRel))
	var docs []string
	for len(text) > 0 {
		cut := min(len(text), 2000)
		if i := strings.IndexByte(text[cut:], '\n'); i >= 0 {
			cut += i + 1
		} else {
			cut = len(text)
		}
		docs = append(docs, text[:cut])
		text = text[cut:]
	}
	b.SetBytes(int64(len(readFixture(b, "", fixture.ShakespeareRel))))
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	n := 0
	for b.Loop() {
		_ = enc.EncodeBatch(docs)
		n++
	}
	wall := time.Since(wall0)
	reportCPU(b, cpu0, n, bytesOf(docs))
	// cores is CPU time over wall time: how many cores the batch actually kept busy. On an idle
	// machine it approaches GOMAXPROCS; on a shared one it shows how much of the machine we got.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/wall.Seconds(), "cores")
}

func bytesOf(docs []string) int {
	n := 0
	for _, d := range docs {
		n += len(d)
	}
	return n
}

func BenchmarkEncodeBatchGPT2(b *testing.B)   { benchBatch(b, encodings(b)["gpt2"]) }
func BenchmarkEncodeBatchCL100k(b *testing.B) { benchBatch(b, encodings(b)["cl100k_base"]) }

func BenchmarkDecodeCL100k(b *testing.B) {
	text := string(readFixture(b, "", fixture.ShakespeareRel))
	enc := encodings(b)["cl100k_base"]
	ids := enc.Encode(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		_, _ = enc.Decode(ids)
	}
}

// BenchmarkTrain4096 trains a vocabulary of 4096 on tinyshakespeare (the floor: under 2 s).
func BenchmarkTrain4096(b *testing.B) {
	text := string(readFixture(b, "", fixture.ShakespeareRel))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := tokenizer.Train(context.Background(), text, tokenizer.TrainConfig{VocabSize: 4096}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadCL100k parses the embedded rank file (what the first cl100k.Encoding call costs).
func BenchmarkLoadCL100k(b *testing.B) {
	data := readFixture(b, "", fixture.CL100kRel)
	for b.Loop() {
		if _, err := tokenizer.ReadTiktoken(bytes.NewReader(data), cl100k.Special(), tokenizer.CL100kPattern); err != nil {
			b.Fatal(err)
		}
	}
}
