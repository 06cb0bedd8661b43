package hf_test

import (
	"os"
	"testing"

	"github.com/goformer/goformer/internal/benchtext"
	"github.com/goformer/goformer/internal/fixture"
)

// BenchmarkHFEncode encodes tiny Shakespeare, 1 MB of mixed-script text and 1 MB adversarial runs
// with every fixture tokenizer, one text at a time on one goroutine. bench/compare_hf_tokenizers.sh
// runs it beside Hugging Face's tokenizers (npm package tokenizers) on the same texts.
func BenchmarkHFEncode(b *testing.B) {
	toks, err := fixtureTokenizers()
	if err != nil || len(toks) == 0 {
		fixture.Path(b, fixture.HFTokenizersEnv, fixture.HFTokenizersRel)
		b.Fatal(err)
	}
	shakespeare, err := os.ReadFile(fixture.Path(b, "", fixture.ShakespeareRel))
	if err != nil {
		b.Fatal(err)
	}
	texts := []struct{ name, text string }{{"shakespeare", string(shakespeare)}, {"mixed", benchtext.Mixed(1 << 20)}}
	for _, name := range []string{"letter", "spaces", "digits", "cjk"} {
		texts = append(texts, struct{ name, text string }{name, benchtext.Adversarial(1 << 20)[name]})
	}
	for _, tok := range toks {
		for _, tx := range texts {
			b.Run(tok.name+"/"+tx.name, func(b *testing.B) {
				b.SetBytes(int64(len(tx.text)))
				cpu0 := cpuTime()
				n, ntok := 0, 0
				for b.Loop() {
					ntok = len(tok.tok.EncodeWith(tx.text, false))
					n++
				}
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(float64(len(tx.text))*float64(n)/cpu.Seconds()/1e6, "cpuMB/s")
				}
				b.ReportMetric(float64(ntok), "tokens")
			})
		}
	}
}
