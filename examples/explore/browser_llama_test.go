package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/goformer/goformer/internal/fixture"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserLlama drives the page on a Llama-family directory (llamaDir: 9 query heads sharing
// 3 KV heads, Qwen3's tokenizer.json): the tokens are the tokenizer's, the model line and the
// flow diagram name the Llama family's parts, the attention thumbnails carry a label per KV head
// over the query heads that share it, the head picker and the map's caption say which KV head a
// head reads, and the Inside card writes out the layer, each query head beside its KV head. Then, on
// ../shared/testdata/hf-llama-tiny (no tokenizer.json), the text box takes token ids.
func TestBrowserLlama(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is skipped in -short mode")
	}
	p := newPage(t)
	_, ts := newTestServer(t, options{hf: llamaDir(t)})
	require.NoError(t, chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(ts.URL+"/?text="+url.QueryEscape("Hello, world! Humpty Dumpty sat on a wall"))))
	ready := `document.querySelectorAll('#tokens .tok').length > 0 && document.querySelectorAll('#bars .bar-row').length > 0 && document.querySelectorAll('#thumbs .kv-group').length > 0`
	p.poll("the Llama model's run renders", ready, 30*time.Second)
	assert.Equal(t, "9707|11|1879|0", p.eval(`[...document.querySelectorAll('#tokens .tok .id')].slice(0, 4).map(t => t.textContent).join('|')`), "Hugging Face's ids (the qwen3 vectors)")
	info := p.eval(`document.getElementById('model-info').textContent`)
	assert.Contains(t, info, "Llama family")
	assert.Contains(t, info, "9 query heads sharing 3 KV heads")
	assert.Contains(t, p.eval(`document.getElementById('flow').textContent`), "SwiGLU")
	assert.Equal(t, "KV head 1|KV head 2|KV head 3", p.eval(`[...document.querySelectorAll('#thumbs .kv-group')].map(e => e.textContent).join('|')`))
	assert.Equal(t, "18", p.eval(`String(document.querySelectorAll('#thumbs canvas').length)`), "2 layers × 9 heads")
	assert.Equal(t, "4 · KV 2", p.eval(`document.getElementById('head').options[3].textContent`))
	assert.Contains(t, p.eval(`document.getElementById('attn-meta').textContent`), "reads KV head 1, shared by heads 1–3")
	p.poll("the Inside card writes out the layer", `!!document.getElementById('inside').dataset.rendered && document.getElementById('inside').textContent.includes('SwiGLU')`, 10*time.Second)
	assert.Contains(t, p.eval(`document.getElementById('inside').textContent`), "head 4 · KV 2")
	sctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	full, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	saveShot(t, full, "explore-llama.png")
	p.noJSErrors()

	// At phone width the grouped thumbnails fit (a screenshot to look at, not for the README).
	p.step("phone width", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Reload())
	p.poll("the phone page renders", ready, 20*time.Second)
	assert.Equal(t, "true", p.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`), "the page is wider than the phone")
	p.eval(`(() => { document.getElementById('thumbs').scrollIntoView(); return ''; })()`)
	require.NoError(t, os.WriteFile(filepath.Join(shotDir(t), "llama-phone.png"), capture(t, p.ctx), 0o644))
	p.step("desktop width", 10*time.Second, chromedp.EmulateViewport(1280, 800))

	// The Story's step 12 on this model: its choices, its groups, its KV cache.
	p.step("story step 12", 10*time.Second, chromedp.Navigate(ts.URL+"/?tab=story&step=12&text=Hello"))
	p.poll("step 12 renders", `(() => { const b = document.querySelector('#story .story-body'); return !!b && b.dataset.step === '12' && b.dataset.done === 'true'; })()`, 20*time.Second)
	story := p.eval(`document.querySelector('#story .story-body').textContent`)
	assert.Contains(t, story, "RMSNorm")
	assert.Contains(t, story, "heads 4–6 share KV head 2")
	// 2 (key, value) × 2 layers × 3 KV heads × 2 numbers × 4 bytes
	assert.Contains(t, story, "96 bytes (288 with a KV head per query head)")
	saveShot(t, capture(t, p.ctx), "explore-llama-story.png")
	p.noJSErrors()

	// A directory without tokenizer.json: ids typed as numbers.
	var dir string
	for _, d := range fixture.LlamaDirs(t) {
		if _, err := os.Stat(filepath.Join(d, "tokenizer.json")); err != nil {
			dir = d
			break
		}
	}
	if dir == "" {
		return
	}
	_, ts2 := newTestServer(t, options{hf: dir})
	p.step("open the directory without a tokenizer", 20*time.Second, chromedp.Navigate(ts2.URL+"/"))
	p.poll("the default ids run", `document.querySelectorAll('#tokens .tok').length === 5 && document.querySelectorAll('#bars .bar-row').length > 0`, 20*time.Second)
	assert.Contains(t, p.eval(`document.getElementById('text').placeholder`), "token ids")
	assert.Contains(t, p.eval(`document.getElementById('model-info').textContent`), "no tokenizer.json")
	p.noJSErrors()
}
