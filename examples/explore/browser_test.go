package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -docs also writes the screenshots to docs/ for the README:
//
//	go test ./examples/explore -run Browser -docs
var writeDocs = flag.Bool("docs", false, "also write the browser test's screenshots to docs/")

// chromium finds a Chromium to drive: $GOFORMER_CHROMIUM, else Debian's chromium (apt-get
// install chromium) or another of the usual names on the PATH.
func chromium() string {
	if p := os.Getenv("GOFORMER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts a headless Chromium for the test, with the flags it needs to run as root in a
// container and to stay off the network, and a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromium()
	if exe == "" {
		if os.Getenv("GOFORMER_REQUIRE_BROWSER") != "" { // CI: a skip would hide the missing install
			t.Fatal("no Chromium found, and GOFORMER_REQUIRE_BROWSER is set: apt-get install chromium")
		}
		t.Skip("no Chromium found: install it (apt-get install chromium) or set GOFORMER_CHROMIUM to run the browser test")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// shotDir is where the screenshots go: $GOFORMER_EXPLORE_SHOTS, else a folder under the system's
// temporary directory that the next run overwrites (its path is logged).
func shotDir(t *testing.T) string {
	dir := os.Getenv("GOFORMER_EXPLORE_SHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "goformer-explore-shots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

func saveShot(t *testing.T, png []byte, name string) {
	t.Helper()
	require.Greater(t, len(png), 1000, "screenshot %s is empty", name)
	p := filepath.Join(shotDir(t), name)
	require.NoError(t, os.WriteFile(p, png, 0o644))
	t.Logf("screenshot: %s", p)
	if *writeDocs {
		docs := filepath.Join("..", "..", "docs", name)
		require.NoError(t, os.MkdirAll(filepath.Dir(docs), 0o755))
		require.NoError(t, os.WriteFile(docs, png, 0o644))
		t.Logf("screenshot: %s", docs)
	}
}

// TestBrowser drives the page in a real headless Chromium: a shared link runs at once (tokens,
// bars, heat map and embedding map appear), the temperature slider reshapes the bars, hovering
// the heat map names the two tokens and the weight, a generated token is appended, and a
// training run started from the page grows the loss curve. It takes screenshots at 1280×800
// and at phone width, and checks that the phone layout does not overflow sideways.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is skipped in -short mode")
	}
	p := newPage(t)
	ctx, step, eval, poll := p.ctx, p.step, p.eval, p.poll
	_, ts := newTestServer(t, options{snapshotEvery: 100 * time.Millisecond, sampleEvery: 300 * time.Millisecond})
	barsNow := `[...document.querySelectorAll('#bars .bar-row')].map(r => r.dataset.p).join(',')`

	// 1. A shared link fills the box and runs at once, on the shipped model that has learnt
	// tiny Shakespeare: after "proceed" it expects a space.
	text := "First Citizen:\nBefore we proceed"
	start := time.Now()
	// the first navigation starts the browser: no step deadline around it
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(ts.URL+"/?text="+url.QueryEscape(text))))
	poll("tokens, bars, heat map and embeddings render", `document.querySelectorAll('#tokens .tok').length > 0 && document.querySelectorAll('#bars .bar-row').length > 0 && !!document.getElementById('heat').dataset.rendered && !!document.getElementById('emb').dataset.rendered`, 20*time.Second)
	t.Logf("page rendered %v after the browser was asked to open it", time.Since(start).Round(time.Millisecond))
	assert.Equal(t, text, eval(`document.getElementById('text').value`), "the link's text fills the box")
	assert.Equal(t, fmt.Sprint(len(text)), eval(`String(document.querySelectorAll('#tokens .tok').length)`), "one chip per character")
	assert.Equal(t, "F", eval(`document.querySelector('#tokens .tok .piece').textContent`))
	assert.Equal(t, "8", eval(`String(document.querySelectorAll('#thumbs canvas').length)`), "a thumbnail per layer and head (2×4)")
	assert.Contains(t, eval(`document.getElementById('model-info').textContent`), "trained 3000 iterations")
	assert.True(t, strings.HasPrefix(eval(`document.querySelector('#bars .bar-row .bar-label').textContent`), "·"), "the first guess is a space")
	// 32 tokens: the heat map still names them (every other one where they do not all fit)
	assert.NotEqual(t, "0", eval(`document.getElementById('heat').dataset.labels`), "the heat map's tokens are labelled")
	assert.GreaterOrEqual(t, atoi(eval(`document.getElementById('heat').dataset.labels`)), 16)
	// layers and heads count from 1, as in the lessons
	assert.Equal(t, "1", eval(`document.getElementById('layer').options[0].textContent`))
	assert.Equal(t, "h1", eval(`document.querySelector('#thumbs .axis:nth-child(2)').textContent`))
	assert.Contains(t, eval(`document.getElementById('attn-meta').textContent`), "layer 1, head 1")
	assert.Equal(t, fmt.Sprint(len(text)), eval(`document.getElementById('emb').dataset.highlighted`), "every token of the text is on the map")
	// the flow diagram: tokens, embedding, 2 × (attention, MLP), probabilities; a box leads to its panel
	assert.Equal(t, "7", eval(`document.getElementById('flow').dataset.boxes`))
	eval(`(() => { document.querySelectorAll('#flow .box')[4].dispatchEvent(new MouseEvent('click', {bubbles: true})); return ''; })()`)
	poll("the second layer's attention box picks layer 2", `document.getElementById('layer').value === '1' && document.getElementById('attn-card').classList.contains('flash')`, 5*time.Second)
	eval(`(() => { document.querySelectorAll('#flow .box')[2].dispatchEvent(new MouseEvent('click', {bubbles: true})); return ''; })()`)
	poll("back to layer 1", `document.getElementById('layer').value === '0'`, 5*time.Second)
	eval(`(() => { const z = document.getElementById('emb-zoom'); z.checked = true; z.dispatchEvent(new Event('change', {bubbles: true})); return ''; })()`)
	assert.Contains(t, eval(`document.getElementById('emb-meta').textContent`), "outside the view", "zoomed on the text's letters, the capitals fall outside")
	eval(`(() => { const z = document.getElementById('emb-zoom'); z.checked = false; z.dispatchEvent(new Event('change', {bubbles: true})); return ''; })()`)
	eval(`(() => { window.scrollTo(0, 0); return ''; })()`)
	time.Sleep(1200 * time.Millisecond) // the flash fades
	saveShot(t, capture(t, ctx), "explore.png")
	// the Inside card: the last token's q, k, v in each head and its MLP; a click on a chip picks another
	poll("the inside card renders", `document.getElementById('inside').dataset.rendered === '0:31'`, 10*time.Second)
	assert.Equal(t, "4", eval(`String(document.querySelectorAll('#inside .inside-row:not(.inside-head)').length)`), "a row per head")
	eval(`(() => { document.querySelectorAll('#tokens .tok')[2].dispatchEvent(new MouseEvent('click', {bubbles: true})); return ''; })()`)
	poll("a picked token", `document.getElementById('inside').dataset.rendered === '0:2'`, 10*time.Second)
	eval(`(() => { document.getElementById('inside-card').scrollIntoView(); return ''; })()`)
	require.NoError(t, os.WriteFile(filepath.Join(shotDir(t), "inside.png"), capture(t, ctx), 0o644)) // to look at

	// 1b. The Story tab walks the lessons' steps on this model and this text.
	step("open the Story tab", 5*time.Second, chromedp.Click("#tab-story"))
	for i := 1; i <= 12; i++ {
		poll(fmt.Sprintf("story step %d renders", i), fmt.Sprintf(`(() => { const b = document.querySelector('#story .story-body'); return !!b && b.dataset.step === '%d' && b.dataset.done === 'true'; })()`, i), 20*time.Second)
		title := eval(`document.getElementById('story-title').textContent`)
		assert.True(t, strings.HasPrefix(title, fmt.Sprintf("Step %d: ", i)), title)
		switch i {
		case 2:
			assert.Equal(t, fmt.Sprint(len(text)), eval(`document.querySelector('#story .story-body').dataset.live`), "step 2 shows the text's tokens")
		case 3:
			assert.Less(t, firstFloat(eval(`document.querySelector('#story .story-body').dataset.live`)), 2.5, "step 3's penalty on the opening lines, from the trained model")
		case 8:
			assert.Equal(t, "8", eval(`document.querySelector('#story .story-body').dataset.live`), "step 8's table: a row per head")
			saveShot(t, capture(t, ctx), "explore-story.png")
		}
		// every step, to look at (not for the README)
		require.NoError(t, os.WriteFile(filepath.Join(shotDir(t), fmt.Sprintf("story-%d.png", i)), capture(t, ctx), 0o644))
		if i < 12 {
			step("next step", 5*time.Second, chromedp.Click("#story-next"))
		}
	}
	assert.Contains(t, eval(`document.getElementById('story-cmd').textContent`), "go run ./examples/lessons llama")
	step("back to Run", 5*time.Second, chromedp.Click("#tab-run"))

	// 2. The temperature slider reshapes the bars.
	before := eval(barsNow)
	require.NotEmpty(t, before)
	eval(`(() => { const s = document.getElementById('temperature'); s.value = '0.3'; s.dispatchEvent(new Event('input', {bubbles: true})); return ''; })()`)
	poll("bars change with the temperature", barsNow+` !== `+jsString(before), 10*time.Second)
	after := eval(barsNow)
	assert.NotEqual(t, before, after)
	assert.Equal(t, "0.30", eval(`document.getElementById('temperature-out').textContent`))
	// a colder distribution is more peaked: the top bar grows
	assert.Greater(t, firstFloat(after), firstFloat(before), "temperature 0.3 sharpens the top bar: before %s, after %s", before, after)

	// 3. Hovering a heat-map cell names the two tokens and the weight.
	box := eval(`(() => { const r = document.getElementById('heat').getBoundingClientRect(); return r.left + ',' + r.top + ',' + r.width + ',' + r.height; })()`)
	var hx, hy, hw, hh float64
	_, err := fmt.Sscanf(box, "%g,%g,%g,%g", &hx, &hy, &hw, &hh)
	require.NoError(t, err)
	step("hover the heat map", 5*time.Second, chromedp.MouseEvent("mouseMoved", hx+hw*0.5, hy+hh*0.8))
	poll("the tooltip shows a weight", `!document.getElementById('tip').hidden && document.getElementById('tip').textContent.includes('weight')`, 5*time.Second)
	step("leave the heat map", 5*time.Second, chromedp.MouseEvent("mouseMoved", 2, 2))

	// 4. Generate one token: the text grows by one character, the view follows.
	step("generate one token", 5*time.Second, chromedp.Click("#generate"))
	poll("the text grows by one token", fmt.Sprintf(`document.getElementById('text').value.length === %d && document.querySelectorAll('#tokens .tok').length === %d`, len(text)+1, len(text)+1), 10*time.Second)
	assert.Contains(t, eval(`document.getElementById('gen-info').textContent`), "sampled")

	// 5. Train: the Humpty Dumpty preset, a short run; the loss curve gains points.
	step("open the Train tab", 5*time.Second, chromedp.Click("#tab-train"), chromedp.Click(`input[name=text][value=humpty]`))
	iters := 300
	if raceEnabled { // a smaller, shorter run: under the race detector a step is ~100× slower
		iters = 30
		eval(`(() => { document.getElementById('t-n_layer').value = '1'; document.getElementById('t-n_embd').value = '16'; document.getElementById('t-eval_interval').value = '5'; return ''; })()`)
	}
	eval(fmt.Sprintf(`(() => { document.getElementById('t-max_iters').value = '%d'; return ''; })()`, iters))
	step("start training", 5*time.Second, chromedp.Click("#start"))
	poll("the loss curve gains points", `+document.getElementById('loss').dataset.points >= 10 && +document.getElementById('loss').dataset.evals >= 2`, 30*time.Second)
	poll("the run finishes", `document.getElementById('train-status').textContent.includes('finished')`, 60*time.Second)
	poll("a sample appears", `document.getElementById('sample-meta').textContent.includes('step')`, 10*time.Second)
	assert.Equal(t, fmt.Sprint(iters), eval(`document.getElementById('loss').dataset.points`), "one point per iteration")
	png := capture(t, ctx)
	saveShot(t, png, "explore-train.png")

	// 6. Back on the Run tab (which Start pointed at the run's model), the trained model reads
	// the rhyme.
	step("back to Run", 5*time.Second, chromedp.Click("#tab-run"))
	eval(`(() => { const s = document.getElementById('temperature'); s.value = '1'; s.dispatchEvent(new Event('input', {bubbles: true})); return ''; })()`)
	eval(`(() => { const t = document.getElementById('text'); t.value = 'Humpty Dumpty sat on a wall,\nHumpty Dumpty '; t.dispatchEvent(new Event('input', {bubbles: true})); return ''; })()`)
	poll("the run uses the trained model", fmt.Sprintf(`document.getElementById('model-info').textContent.includes('step %d') &&`, iters)+` document.querySelectorAll('#tokens .tok').length === 43`, 10*time.Second)
	poll("the embedding map follows", `document.getElementById('emb').dataset.rendered !== '' && !!window.getComputedStyle(document.getElementById('emb')).width`, 5*time.Second)
	time.Sleep(300 * time.Millisecond) // the embedding request of the new model
	// a screenshot to look at, not for the README
	require.NoError(t, os.WriteFile(filepath.Join(shotDir(t), "explore-rhyme.png"), capture(t, ctx), 0o644))

	// 7. At phone width nothing overflows sideways, and the page still renders.
	p.phoneShot(`document.querySelectorAll('#tokens .tok').length > 0 && !!document.getElementById('heat').dataset.rendered && !!document.getElementById('emb').dataset.rendered`, "explore-phone.png")
	// after the reload, the Train form shows the finished run's settings, not the default preset
	p.poll("the form follows the run", `document.querySelector('input[name=text]:checked').value === 'humpty'`, 5*time.Second)
	assert.Equal(t, fmt.Sprint(iters), eval(`document.getElementById('t-max_iters').value`))
	// a link opens a step of the story on the model the page trained
	step("a story link", 10*time.Second, chromedp.Navigate(ts.URL+"/?tab=story&step=3&model=trained&text="+url.QueryEscape("Humpty Dumpty sat")))
	poll("the linked step renders", `(() => { const b = document.querySelector('#story .story-body'); return !!b && b.dataset.step === '3' && b.dataset.done === 'true'; })()`, 20*time.Second)
	assert.Equal(t, "trained", eval(`document.getElementById('model').value`))
	p.noJSErrors()
}

// TestBrowserSeq2Seq drives the Run view of an encoder–decoder (a small model trained on
// examples/translate's dates and saved as examples/translate -save saves it): a link translates
// at once, showing the source and output tokens, the translation and the cross-attention map
// (one thumbnail per layer and head), the tooltip names the output and source tokens, the map
// picker switches to the encoder's self-attention, a beam re-translates, and the model picker
// goes back to a GPT. Screenshots at 1280×800 and at phone width.
func TestBrowserSeq2Seq(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is skipped in -short mode")
	}
	dir, m := dateModel(t, trainSteps(300), false)
	named := filepath.Join(t.TempDir(), "out-translate") // as the page names it: encoder–decoder out-translate
	require.NoError(t, os.Rename(dir, named))
	p := newPage(t)
	_, ts := newTestServer(t, options{seq: named})
	text := "july 4, 1976"
	want := translation(t, m, text, 1)

	// 1. The link translates at once: the encoder–decoder is the first model.
	require.NoError(t, chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(ts.URL+"/?text="+url.QueryEscape(text))))
	ready := `document.body.classList.contains('seq2seq') && document.querySelectorAll('#out-tokens .tok').length > 0 && document.getElementById('heat').dataset.map === 'cross'`
	p.poll("the translation and the cross-attention render", ready, 20*time.Second)
	assert.Equal(t, want, p.eval(`document.getElementById('translation').textContent`))
	assert.Equal(t, "7", p.eval(`String(document.querySelectorAll('#tokens .tok').length)`), "july 4 , 1 9 7 6")
	assert.Equal(t, "Source tokens", p.eval(`document.getElementById('tokens-title').textContent`))
	assert.Equal(t, "8", p.eval(`String(document.querySelectorAll('#thumbs canvas').length)`), "a thumbnail per decoder layer and head (2×4)")
	assert.Equal(t, "3", p.eval(`String(document.getElementById('map').options.length)`), "cross, decoder and encoder maps")
	for _, id := range []string{"next-card", "emb-card"} {
		assert.Equal(t, "hidden", p.eval(`document.getElementById('`+id+`').offsetParent === null ? 'hidden' : 'shown'`), id)
	}
	assert.Contains(t, p.eval(`document.getElementById('model-info').textContent`), "encoder–decoder · 1 + 2 layers")

	// 2. Hovering a cell names the output token being written and the source token.
	box := p.eval(`(() => { const r = document.getElementById('heat').getBoundingClientRect(); return r.left + ',' + r.top + ',' + r.width + ',' + r.height; })()`)
	var hx, hy, hw, hh float64
	_, err := fmt.Sscanf(box, "%g,%g,%g,%g", &hx, &hy, &hw, &hh)
	require.NoError(t, err)
	p.step("hover the heat map", 5*time.Second, chromedp.MouseEvent("mouseMoved", hx+hw*0.8, hy+hh*0.5))
	p.poll("the tooltip names both tokens", `!document.getElementById('tip').hidden && document.getElementById('tip').textContent.includes('writing') && document.getElementById('tip').textContent.includes('(source ')`, 5*time.Second)
	p.step("leave the heat map", 5*time.Second, chromedp.MouseEvent("mouseMoved", 2, 2))
	saveShot(t, capture(t, p.ctx), "explore-seq2seq.png")

	// 3. The map picker: the encoder's self-attention (one layer), then back.
	setSelect := func(id, value string) {
		p.eval(`(() => { const s = document.getElementById('` + id + `'); s.value = '` + value + `'; s.dispatchEvent(new Event('change', {bubbles: true})); return ''; })()`)
	}
	setSelect("map", "2")
	p.poll("the encoder map renders", `document.getElementById('heat').dataset.map === 'encoder'`, 5*time.Second)
	assert.Equal(t, "4", p.eval(`String(document.querySelectorAll('#thumbs canvas').length)`), "one encoder layer of 4 heads")
	setSelect("map", "0")
	p.poll("back to cross-attention", `document.getElementById('heat').dataset.map === 'cross'`, 5*time.Second)

	// 4. A beam re-translates, and the link keeps it.
	setSelect("beam", "4")
	p.poll("the beam search answers", `document.getElementById('out-meta').textContent.includes('beam search, 4')`, 10*time.Second)
	assert.Contains(t, p.eval(`location.search`), "beam=4")

	// 5. At phone width nothing overflows sideways.
	p.phoneShot(ready, "explore-seq2seq-phone.png")

	// 6. The model picker goes back to a GPT: its bars and embeddings come back.
	setSelect("model", "trained")
	p.poll("the GPT view returns", `!document.body.classList.contains('seq2seq') && document.querySelectorAll('#bars .bar-row').length > 0 && document.getElementById('heat').dataset.map === 'self' && !!document.getElementById('emb').dataset.rendered`, 20*time.Second)
	p.noJSErrors()
}

// page is a headless Chromium page for a test, with its JavaScript exceptions collected and
// helpers whose failures name the step that failed.
type page struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	jsErrors []string
}

func newPage(t *testing.T) *page {
	p := &page{t: t, ctx: browser(t)}
	require.NoError(t, chromedp.Listen(p.ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			p.mu.Lock()
			p.jsErrors = append(p.jsErrors, (&chromedp.ExceptionError{ExceptionDetails: e.ExceptionDetails}).Error())
			p.mu.Unlock()
		}
	}))
	return p
}

func (p *page) noJSErrors() {
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Empty(p.t, p.jsErrors, "JavaScript exceptions on the page")
}

// step runs actions with their own deadline, so a stuck page fails fast with the step's name.
func (p *page) step(name string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	sctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	require.NoError(p.t, chromedp.Do(sctx, actions...), "step %q", name)
}

func (p *page) eval(expr string) string {
	p.t.Helper()
	sctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[string](expr))
	require.NoError(p.t, err, "evaluating %s", expr)
	return v
}

// poll waits until the JavaScript expression is true.
func (p *page) poll(name, expr string, timeout time.Duration) {
	p.t.Helper()
	p.step(name, timeout+5*time.Second, chromedp.Steps(func(c context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))(c, tg)
		return chromedp.Void{}, err
	}))
}

// phoneShot reloads the page at phone width, waits for ready, checks that nothing overflows
// sideways, and saves a full-page screenshot as name.
func (p *page) phoneShot(ready, name string) {
	p.t.Helper()
	p.step("phone width", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Reload())
	p.poll("the phone page renders", ready, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(p.t, "true", p.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`),
		"the page is wider than the phone: scrollWidth %s, innerWidth %s", p.eval(`String(document.documentElement.scrollWidth)`), p.eval(`String(window.innerWidth)`))
	sctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	full, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	require.NoError(p.t, err)
	saveShot(p.t, full, name)
}

// capture takes a PNG of the viewport.
func capture(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	return png
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}

func firstFloat(csv string) float64 {
	var f float64
	fmt.Sscanf(strings.Split(csv, ",")[0], "%g", &f)
	return f
}
