// goformer explore: the "Inside one token" card: for the token picked in the Tokens card (the
// last one by default) and the layer picked in the Attention card, the token's query, key and
// value in every head as strips of numbers, where each head's weights go, and the activations of
// the layer's MLP. The numbers come from /api/inside.
import { setupCanvas } from './charts.js';

// signed maps a number to a colour: blue below 0, red above, white at 0, saturating at ±lim.
function signed(x, lim) {
  const t = Math.max(-1, Math.min(1, x / lim));
  const a = Math.round(255 * (1 - Math.abs(t)));
  return t < 0 ? `rgb(${a},${Math.round(a + (255 - a) * 0.25)},255)` : `rgb(255,${a},${a})`;
}

// strip draws numbers as a row of cells (wrapping after perRow), coloured by sign and size.
function strip(el, values, perRow, cell) {
  const c = el('canvas', 'strip');
  const rows = Math.ceil(values.length / perRow);
  const g = setupCanvas(c, Math.min(values.length, perRow) * cell, rows * cell);
  const lim = Math.max(1e-6, ...values.map(Math.abs));
  values.forEach((v, i) => {
    g.fillStyle = signed(v, lim);
    g.fillRect((i % perRow) * cell, Math.floor(i / perRow) * cell, cell, cell);
  });
  c.title = `${values.length} numbers, from ${Math.min(...values).toFixed(2)} to ${Math.max(...values).toFixed(2)} (blue below 0, red above)`;
  return c;
}

export function initInside(ctx) {
  const { $, el, api, state, showText, pct } = ctx;
  let n = 0;
  async function load() {
    const r = state.run;
    const box = $('inside');
    if (!r || !r.tokens || !state.att || state.att.name !== 'self') return;
    const ids = r.tokens.map((t) => t.id);
    const pos = state.pos === null || state.pos >= ids.length ? ids.length - 1 : state.pos;
    const layer = state.layer;
    const mine = ++n;
    let d;
    try {
      d = await api('/api/inside', { model: state.model, ids, layer, pos });
    } catch (e) {
      if (mine === n) box.replaceChildren(el('p', 'muted', e.message));
      return;
    }
    if (mine !== n) return;
    $('inside-meta').textContent = `layer ${layer + 1} · token ${pos + 1}, “${showText(d.token)}” · click a token above to pick another; the layer is the Attention card's`;
    const rows = [];
    const rowClass = d.kv_head ? 'inside-row grouped' : 'inside-row'; // a wider first column for "head 4 · KV 2"
    const head = el('div', rowClass + ' inside-head');
    head.append(el('span', '', ''), el('span', '', d.ff === 'swiglu' ? 'query q, turned' : 'query q'), el('span', '', d.ff === 'swiglu' ? 'key k, turned' : 'key k'), el('span', '', 'value v'), el('span', '', 'where it looks (softmax of q·k/√' + d.head_size + ')'));
    rows.push(head);
    d.q.forEach((q, h) => {
      const row = el('div', rowClass);
      const w = d.weights[h].map((x, j) => [j, x]).sort((a, b) => b[1] - a[1]).slice(0, 3);
      row.append(el('span', 'axis', d.kv_head ? `head ${h + 1} · KV ${d.kv_head[h] + 1}` : `head ${h + 1}`), strip(el, q, 32, 6), strip(el, d.k[h], 32, 6), strip(el, d.v[h], 32, 6),
        el('span', 'mono small', w.map(([j, x]) => `“${showText(r.tokens[j].text)}” ${pct(x)}`).join('  ')));
      rows.push(row);
    });
    const fired = d.mlp.filter((x) => x > 0).length;
    const top = d.mlp.map((x, i) => [i, x]).sort((a, b) => b[1] - a[1]).slice(0, 5);
    const mlp = el('div', 'inside-mlp');
    const what = d.ff === 'swiglu' ? `SwiGLU's ${d.mlp.length} hidden units for this token, silu(gate) × up` : `The MLP's ${d.mlp.length} hidden neurons for this token, after GELU`;
    mlp.append(el('div', 'small', `${what}: ${fired} are above 0; the strongest: ${top.map(([i, x]) => `#${i + 1} ${x.toFixed(2)}`).join(', ')}.`),
      strip(el, d.mlp, 64, 7));
    box.replaceChildren(...rows, mlp);
    box.dataset.rendered = `${layer}:${pos}`;
  }
  return { load };
}
