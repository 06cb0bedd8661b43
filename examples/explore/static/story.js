// goformer explore: the Story tab, a guided tour through the lessons' steps (examples/lessons)
// in the page. Each step says what it shows and shows it live, on the model picked at the top
// and the Run tab's text: change the text, pick another model or train one, and the step
// changes with it.

import { setupCanvas, heat } from './charts.js';

export function initStory(ctx) {
  const { $, el, api, state, showText, pct, modelInfo } = ctx;
  let current = 0;
  let busy = 0; // the newest render: older answers are dropped

  const para = (box, text) => box.append(el('p', '', text));
  const mono = (text) => el('code', 'mono', text);
  const table = (head, rows) => {
    const t = el('table', 'story-table');
    const tr = el('tr');
    for (const h of head) tr.append(el('th', '', h));
    t.append(tr);
    for (const r of rows) {
      const row = el('tr');
      for (const c of r) row.append(el('td', '', c));
      t.append(row);
    }
    return t;
  };
  // the text the live steps read: the Run tab's, at most 64 characters (its end)
  const storyText = () => {
    const t = $('text').value || 'First Citizen:\nBefore we proceed';
    return [...t].slice(-64).join('');
  };
  const run = async () => api('/api/run', { model: state.model, text: storyText(), temperature: 1, top_k: 0 });
  const decode = (a) => {
    const bin = atob(a.data);
    const w = new Float32Array(bin.length / 2);
    for (let i = 0; i < w.length; i++) w[i] = (bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8)) / 65535;
    return (l, h, i, j) => w[((l * a.heads + h) * a.rows + i) * a.cols + j];
  };

  // bars draws candidates as the Run tab's bars: a label, a bar as long as the probability.
  const bars = (cands) => {
    const box = el('div', 'bars');
    for (const c of cands) {
      const row = el('div', 'bar-row');
      const track = el('span', 'bar-track');
      const fill = el('span', 'bar-fill');
      fill.style.width = (c.p * 100).toFixed(2) + '%';
      track.append(fill);
      row.append(el('span', 'bar-label', showText(c.text)), track, el('span', 'bar-pct', pct(c.p)));
      box.append(row);
    }
    return box;
  };
  // heatMap draws one head's weights (rows: the token that looks; columns: the one looked at),
  // the future grey, each token named on both axes (every k-th where they do not fit).
  const heatMap = (w, l, h, labels) => {
    const n = labels.length;
    const cell = Math.max(4, Math.min(16, 340 / n));
    const m = 30, step = Math.ceil(11 / cell);
    const c = el('canvas');
    const g = setupCanvas(c, m + cell * n + 2, m + cell * n + 2);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        g.fillStyle = j > i ? '#f1f2f4' : heat(w(l, h, i, j));
        g.fillRect(m + j * cell, m + i * cell, Math.ceil(cell), Math.ceil(cell));
      }
    }
    g.fillStyle = '#1c2230';
    g.font = '10px ui-monospace, monospace';
    g.textBaseline = 'middle';
    for (let i = 0; i < n; i += step) {
      g.textAlign = 'right';
      g.fillText(showText(labels[i]).slice(0, 3), m - 3, m + (i + 0.5) * cell);
      g.textAlign = 'center';
      g.fillText(showText(labels[i]).slice(0, 1), m + (i + 0.5) * cell, m - 8);
    }
    return c;
  };
  // scatter draws the embedding map: every token pale, the text's tokens dark.
  const scatter = (d, mine) => {
    const W = 360, H = 300, pad = 14;
    const c = el('canvas');
    const g = setupCanvas(c, W, H);
    g.fillStyle = '#fafbfc';
    g.fillRect(0, 0, W, H);
    const x0 = Math.min(...d.x), x1 = Math.max(...d.x), y0 = Math.min(...d.y), y1 = Math.max(...d.y);
    const px = (x) => pad + (x - x0) / ((x1 - x0) || 1) * (W - 2 * pad);
    const py = (y) => H - pad - (y - y0) / ((y1 - y0) || 1) * (H - 2 * pad);
    g.font = '11px ui-monospace, monospace';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    d.ids.forEach((id, i) => {
      g.fillStyle = mine.has(id) ? '#2563eb' : '#a3acbb';
      g.fillText(showText(d.labels[i]).slice(0, 3), px(d.x[i]), py(d.y[i]));
    });
    return c;
  };

  // Step 1's network, with the lesson's made-up weights (examples/lessons/numbers.go).
  const hidden = [[0.1, 0.5, -0.2, 0.3], [0.6, -0.4, 0.2, -0.1], [-0.3, 0.2, 0.4, 0.1]];
  const out = [[0.8, -0.3, 0.1], [-0.2, 0.7, 0.3]];

  // The heads' habits, as step 8 defines them: the average weight each kind of earlier
  // position gets.
  // position, over the tokens' texts t (or −1 where there is none).
  const lastWith = (t, i, ch) => { for (let j = i - 1; j >= 0; j--) if (t[j].includes(ch)) return j; return -1; };
  const habits = [
    ['itself', (t, i) => i],
    ['the previous token', (t, i) => i - 1],
    ['the token two back', (t, i) => i - 2],
    ['the space before the word', (t, i) => lastWith(t, i, ' ')],
    ['the start of the line', (t, i) => lastWith(t, i, '\n')],
  ];

  const steps = [
    {
      name: 'numbers', title: 'A network only handles numbers',
      async show(box) {
        para(box, 'Numbers go in, get multiplied by weights and added up, and numbers come out. Step 1 tells a leaf from a flower from four numbers: how red, green and blue it is (divided by 255) and its volume (divided by 20). Each hidden neuron adds up the inputs times its weights; below 0 it gives 0 (ReLU). The outputs score leaf and flower.');
        const x = [230 / 255, 200 / 255, 40 / 255, 3.5 / 20];
        // w×x terms written as the lesson writes them: "0.1×0.90 − 0.2×0.16"
        const sum = (ws, xs) => ws.map((w, j) => `${j === 0 ? (w < 0 ? '−' : '') : (w < 0 ? ' − ' : ' + ')}${Math.abs(w).toFixed(1)}×${xs[j].toFixed(2)}`).join('');
        const h = hidden.map((w) => Math.max(0, w.reduce((s, wi, j) => s + wi * x[j], 0)));
        const z = out.map((w) => w.reduce((s, wi, j) => s + wi * h[j], 0));
        para(box, `A yellow flower, inputs ${x.map((v) => v.toFixed(2)).join(', ')}, with the lesson's made-up weights:`);
        box.append(table(['neuron', 'sum', 'value'], [
          ...h.map((v, i) => [`h${i + 1}`, sum(hidden[i], x) + (v === 0 ? ': below 0, so 0' : ''), v.toFixed(2)]),
          ...z.map((v, i) => [['leaf', 'flower'][i], sum(out[i], h), v.toFixed(2)]),
        ]));
        para(box, z[1] > z[0] ? 'It says flower: right.' : 'It says leaf: wrong. Training nudges every weight against its gradient until the loss is small; the terminal lesson shows one such step with numbers, and the finite-difference check of the gradient.');
      },
    },
    {
      name: 'letters', title: 'Text becomes numbers',
      async show(box, r) {
        para(box, 'A model reads numbers, so the text is cut into tokens and each token is given its number (id) in the vocabulary. Your text, as this model reads it:');
        const chips = el('div', 'tokens');
        for (const t of r.tokens) {
          const c = el('span', 'tok');
          c.append(el('span', 'piece', showText(t.text)), el('small', '', String(t.id)));
          chips.append(c);
        }
        box.append(chips);
        const m = modelInfo();
        para(box, `${r.tokens.length} tokens, from a vocabulary of ${m.vocab} (${m.tokenizer}).`);
        box.dataset.live = String(r.tokens.length);
      },
    },
    {
      name: 'guess', title: 'Training is a guessing game',
      async show(box, r) {
        para(box, 'Shown the start of a text, the model gives every token a probability of coming next. The penalty for a guess is −ln of the probability it gave the token that really came: 0 when certain and right, 4.6 for 1%. Training lowers the average penalty. For your text:');
        let sum = 0;
        const rows = r.tokens.slice(1).map((t, i) => { sum -= Math.log(t.p); return [showText(r.tokens.slice(0, i + 1).map((x) => x.text).join('').slice(-12)), showText(t.text), pct(t.p), (-Math.log(t.p)).toFixed(2)]; });
        box.append(table(['after …', 'came', 'it gave', 'penalty'], rows.slice(-8)));
        const v = modelInfo().vocab;
        const mean = sum / Math.max(1, rows.length);
        para(box, `Its average penalty over your text: ${mean.toFixed(2)}; guessing blindly among ${v} tokens costs ln ${v} = ${Math.log(v).toFixed(2)}. Its guesses for what comes after your text:`);
        box.append(bars(r.next.top.slice(0, 8)));
        box.dataset.live = mean.toFixed(3);
      },
    },
    {
      name: 'embeddings', title: 'Each token becomes a vector',
      async show(box, r) {
        para(box, 'Each token id picks a row of a table (wte): a vector of numbers the model learns. Tokens used alike end up with vectors alike. Squeezed onto a plane (its two principal components), the nearest neighbours of your text\'s tokens:');
        const d = await api('/api/embeddings?model=' + encodeURIComponent(state.model));
        const at = new Map(d.ids.map((id, i) => [id, i]));
        const rows = [];
        const seen = new Set();
        for (const t of r.tokens) {
          if (seen.has(t.id) || !at.has(t.id) || rows.length >= 6) continue;
          seen.add(t.id);
          const k = at.get(t.id);
          const near = d.ids.map((id, i) => [i, Math.hypot(d.x[i] - d.x[k], d.y[i] - d.y[k])]).filter(([i]) => i !== k).sort((a, b) => a[1] - b[1]).slice(0, 4);
          rows.push([showText(t.text), near.map(([i]) => showText(d.labels[i])).join('  ')]);
        }
        box.append(table(['token', 'nearest on the map'], rows));
        box.append(scatter(d, new Set(r.tokens.map((t) => t.id))));
        para(box, `The plane holds ${(100 * (d.variance[0] + d.variance[1])).toFixed(0)}% of the vectors' variance: neighbours there are close in the first two directions, not always in all ${modelInfo().width}. The Run tab draws the whole map.`);
      },
    },
    {
      name: 'subwords', title: 'Subword tokens',
      async show(box, r) {
        para(box, 'Characters make long sequences; whole words make a huge vocabulary. A byte-pair encoding starts from bytes and merges the most frequent neighbouring pair into a new token, again and again, so common words become one token and rare ones a few pieces.');
        const chars = [...storyText()].length;
        para(box, `This model's tokenizer (${modelInfo().tokenizer}) reads your ${chars} characters as ${r.tokens.length} tokens. Train a model with the BPE tokenizer on the Train tab to see words become tokens.`);
      },
    },
    {
      name: 'attention', title: 'Self-attention',
      async show(box, r) {
        const a = r.attention[0];
        const w = decode(a);
        const i = a.rows - 1;
        para(box, 'Every token looks back at the tokens before it and takes in a mix of them: its query is compared with each earlier key, softmax turns the scores into weights that add up to 1, and it takes the weighted sum of the values. The last token of your text, in layer 1, head 1, gives its weight to:');
        const ws = [...Array(a.cols).keys()].map((j) => [j, w(0, 0, i, j)]).sort((x, y) => y[1] - x[1]).slice(0, 6);
        box.append(table(['position', 'token', 'weight'], ws.map(([j, v]) => [String(j + 1), showText(r.tokens[j].text), pct(v)])));
        para(box, 'The whole head as a picture: row i is where token i looks (its last row is the table above), darker for more weight. Later tokens get no weight at all (grey): a model that writes the next token may not peek at it. The Run tab draws every layer and head.');
        box.append(heatMap(w, 0, 0, r.tokens.map((t) => t.text)));
        box.dataset.live = String(ws.length);
      },
    },
    {
      name: 'residual', title: 'Residual connections, layer norm and dropout',
      async show(box) {
        para(box, 'A deep stack of layers trains badly if each layer must pass everything on through its own weights. A residual connection adds each layer\'s output to its input, so the signal and its gradient have a straight path through the stack; layer norm keeps the vectors\' scale steady; dropout, while training, switches off random numbers so that no weight is relied on alone.');
        para(box, `This model has ${modelInfo().layers} blocks, each with two residual additions (the + in the flow diagram of the Run tab).`);
      },
    },
    {
      name: 'heads', title: 'Multi-head attention',
      async show(box, r) {
        const a = r.attention[0];
        const w = decode(a);
        const text = r.tokens.map((t) => t.text);
        para(box, 'Each layer has several heads side by side, each with its own queries, keys and values; training makes them look at different things. On your text, the average weight each head gives to each kind of earlier position ("mostly" means half or more, "leans to" a quarter or more):');
        const rows = [];
        for (let l = 0; l < a.layers; l++) {
          for (let h = 0; h < a.heads; h++) {
            const avg = habits.map(([, f]) => {
              let s = 0, n = 0;
              for (let i = 1; i < a.rows; i++) { // position 0 can only look at itself
                const j = f(text, i);
                if (j >= 0) { s += w(l, h, i, j); n++; }
              }
              return n ? s / n : 0;
            });
            const top = avg.indexOf(Math.max(...avg));
            const words = avg[top] >= 0.5 ? `mostly ${habits[top][0]}` : avg[top] >= 0.25 ? `leans to ${habits[top][0]}` : 'spread out';
            rows.push([`layer ${l + 1} head ${h + 1}`, ...avg.map((v) => (100 * v).toFixed(0) + '%'), words]);
          }
        }
        box.append(table(['', 'itself', 'previous', 'two back', 'word start', 'line start', 'in words'], rows));
        box.dataset.live = String(rows.length);
      },
    },
    {
      name: 'positions', title: 'Positional encoding',
      async show(box) {
        para(box, 'Attention by itself sees a bag of tokens: "dog bites man" and "man bites dog" would look the same. So each position adds its own vector to the token\'s: the original Transformer a fixed table of waves, GPT-2 ' + (modelInfo().family === 'llama' ? 'a learnt table, wpe.' : '(and this model) a learnt table, wpe.'));
        if (modelInfo().family === 'llama') para(box, `This model adds no position vector: it is of the Llama family, which turns each query and key by an angle that grows with the position, inside attention (rotary positions, step 12). It reads at most ${modelInfo().context} tokens at once.`);
        else para(box, `This model has a vector for each of its ${modelInfo().context} positions: the longest text it reads at once.`);
      },
    },
    {
      name: 'gpt', title: 'GPT: all of it together',
      async show(box) {
        para(box, 'Tokens, their vectors plus positions, a stack of blocks of attention and MLP with residual connections, then scores for every token of the vocabulary and softmax: that is a GPT. To write, it picks a next token by its probability, adds it, and guesses again. This model, going on from your text (temperature 0.8, top 40):');
        const pre = el('pre', 'sample');
        box.append(pre);
        let ids = null;
        let text = storyText();
        const mine = busy;
        for (let k = 0; k < 40 && mine === busy; k++) {
          const g = await api('/api/generate', ids ? { model: state.model, ids, temperature: 0.8, top_k: 40, seed: k + 1 } : { model: state.model, text, temperature: 0.8, top_k: 40, seed: k + 1 });
          ids = g.run.tokens.map((t) => t.id); // the last ones the model reads
          text += g.run.tokens[g.run.tokens.length - 1].text;
          pre.textContent = text;
        }
        box.dataset.live = String(text.length);
      },
    },
    {
      name: 'transformer', title: 'The encoder–decoder Transformer',
      async show(box) {
        para(box, 'For translation, an encoder reads the whole source (every token sees every other), and a decoder writes the output one token at a time, looking back at what it wrote and, through cross-attention, at the encoder\'s vectors of the source.');
        para(box, 'Run the explorer with -seq2seq DIR on a model that examples/translate saved, and pick it at the top: its Run view translates, with the cross-attention of every layer and head.');
      },
    },
    {
      name: 'llama', title: 'After GPT-2: what changed',
      async show(box) {
        const m = modelInfo();
        const llama = m.family === 'llama';
        const kv = m.kv_heads || m.heads;
        para(box, 'The open models people run today (Llama, Qwen, SmolLM, Mistral) are GPT-2\'s decoder with four changes. RMSNorm instead of LayerNorm: it divides by the root mean square and takes no mean away. Rotary positions instead of a table of position vectors: each query and key is turned by an angle that grows with its position, so the score between two tokens depends on their distance alone. A gated feed-forward, SwiGLU: silu(gate) × up, instead of GELU. And fewer key/value heads than query heads: a group of query heads shares one. The terminal lesson shows each on small numbers, with pictures.');
        const perToken = (k) => 2 * m.layers * k * m.head_dim * 4;
        box.append(table(['', 'GPT-2', `this model${llama ? ' (Llama family)' : ''}`], [
          ['norm', 'LayerNorm', llama ? 'RMSNorm' : 'LayerNorm'],
          ['positions', 'a learnt vector added per position', llama ? 'rotary: queries and keys turned' : 'a vector added per position'],
          ['feed-forward', 'GELU MLP, 4 × wider', llama ? `SwiGLU, ${m.width} → ${m.ff_hidden} → ${m.width}` : `GELU MLP, ${m.width} → ${m.ff_hidden} → ${m.width}`],
          ['heads', 'a key/value head per query head', `${m.heads} query heads, ${kv} key/value head${kv > 1 ? 's' : ''}`],
          ['KV cache per token', '', `${perToken(kv).toLocaleString('en')} bytes${kv < m.heads ? ` (${perToken(m.heads).toLocaleString('en')} with a KV head per query head)` : ''}`],
        ]));
        if (kv < m.heads) {
          const g = m.heads / kv;
          const groups = Array.from({ length: kv }, (_, i) => `heads ${i * g + 1}–${(i + 1) * g} share KV head ${i + 1}`);
          para(box, `In this model ${groups.join('; ')}: the Run tab's attention thumbnails are grouped by them.`);
        } else {
          para(box, 'Open a Llama-family directory (go run ./examples/explore -model DIR, a SmolLM2 or Qwen one) to see this step on such a model.');
        }
        box.dataset.live = String(kv);
      },
    },
  ];

  function nav() {
    const list = $('story-steps');
    list.replaceChildren(...steps.map((s, i) => {
      const b = el('button', i === current ? 'on' : '', `${i + 1}. ${s.title}`);
      b.type = 'button';
      b.addEventListener('click', () => { current = i; render(); });
      const li = el('li');
      li.append(b);
      return li;
    }));
    $('story-prev').disabled = current === 0;
    $('story-next').disabled = current === steps.length - 1;
  }

  async function render() {
    if ($('view-story').hidden) return;
    nav();
    const s = steps[current];
    const mine = ++busy;
    const box = el('div', 'story-body');
    box.dataset.step = String(current + 1);
    $('story-title').textContent = `Step ${current + 1}: ${s.title}`;
    $('story-cmd').replaceChildren('In the terminal: ', mono(`go run ./examples/lessons ${s.name}`));
    $('story').replaceChildren(box);
    const m = modelInfo();
    if (!m || m.kind !== 'gpt') {
      para(box, 'The tour reads a GPT: pick one at the top.');
      return;
    }
    try {
      const r = s.show.length > 1 ? await run() : null;
      if (mine !== busy) return;
      await s.show(box, r);
      box.dataset.done = 'true';
    } catch (e) {
      if (mine === busy) para(box, 'Could not show this step: ' + e.message);
    }
  }

  $('story-prev').addEventListener('click', () => { if (current > 0) { current--; render(); } });
  $('story-next').addEventListener('click', () => { if (current < steps.length - 1) { current++; render(); } });
  // go shows step n (from 1), as a link's step= asks.
  const go = (n) => { if (n >= 1 && n <= steps.length) current = n - 1; };
  return { render, go, steps: steps.length };
}
