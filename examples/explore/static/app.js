// goformer explore: the page. Plain JavaScript, no libraries; every picture is a canvas drawn here.
import { setupCanvas, heat, drawLossChart } from './charts.js';
import { initStory } from './story.js';
import { initInside } from './inside.js';

const $ = (id) => document.getElementById(id);

const state = {
  models: [],
  limits: {},
  presets: {},
  model: '',
  ids: null,        // exact ids after "generate one token"; null while the text box is the source
  run: null,        // the last /api/run response (a GPT) or /api/translate response (an encoder–decoder)
  map: 0,           // which of run.attention is drawn
  seqModel: '',     // the encoder–decoder last shown
  layer: 0,
  head: 0,
  att: null,        // decoded attention weights of run.attention[state.map]
  emb: null,        // the last /api/embeddings response
  train: null,      // the training status, merged from the event stream
  hover: null,      // [row, col] under the pointer on the heat map
  pos: null,        // the token the Inside card shows (null: the last)
  lastFollow: 0,
};

// ---------- requests ----------

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const r = await fetch(path, init);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) throw new Error((data && data.error) || `${r.status} ${r.statusText}`);
  return data;
}

// latest returns a wrapper that lets only the newest call's result through: answers to older
// calls that arrive late are dropped.
function latest(fn) {
  let n = 0;
  return async (...args) => {
    const mine = ++n;
    const out = await fn(...args);
    return mine === n ? out : undefined;
  };
}

// ---------- small helpers ----------

function show(text) {
  // spaces, tabs and newlines made visible, so token boundaries can be seen
  const frag = document.createDocumentFragment();
  let plain = '';
  const flush = () => { if (plain) { frag.append(plain); plain = ''; } };
  for (const ch of text) {
    const sym = ch === ' ' ? '·' : ch === '\n' ? '↵' : ch === '\t' ? '→' : ch === '\r' ? '␍' : null;
    if (sym) {
      flush();
      const s = document.createElement('span');
      s.className = 'ws';
      s.textContent = sym;
      frag.append(s);
    } else {
      plain += ch;
    }
  }
  flush();
  return frag;
}

function showText(text) {
  return text.replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '→');
}

function pct(p) {
  if (p >= 0.995) return (p * 100).toFixed(0) + '%';
  if (p >= 0.1) return (p * 100).toFixed(1) + '%';
  if (p >= 0.001) return (p * 100).toFixed(2) + '%';
  return p > 0 ? '<0.1%' : '0%';
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function esc(s) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

const tip = {
  show(html, x, y) {
    const t = $('tip');
    t.innerHTML = html;
    t.hidden = false;
    const w = t.offsetWidth, h = t.offsetHeight;
    const left = Math.min(Math.max(4, x + 14), window.innerWidth - w - 4);
    const top = y + 16 + h > window.innerHeight ? y - h - 10 : y + 16;
    t.style.left = left + 'px';
    t.style.top = Math.max(4, top) + 'px';
  },
  hide() { $('tip').hidden = true; },
};

function notice(msg, isError) {
  const n = $('notice');
  n.textContent = msg || '';
  n.hidden = !msg;
  n.classList.toggle('error', !!isError);
}

function contentWidth(e) {
  const cs = getComputedStyle(e);
  return e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
}

// ---------- models ----------

async function loadModels(keep) {
  const d = await api('/api/models');
  state.models = d.models;
  state.limits = d.limits;
  state.presets = d.train_defaults;
  const sel = $('model');
  const current = keep || sel.value;
  sel.replaceChildren(...d.models.map((m) => {
    const o = el('option', '', m.title);
    o.value = m.name;
    o.title = m.source;
    return o;
  }));
  if (d.models.some((m) => m.name === current)) sel.value = current;
  state.model = sel.value;
  showModelInfo();
}

function modelInfo() {
  return state.models.find((m) => m.name === state.model) || state.models[0];
}

function showModelInfo(note) {
  const m = modelInfo();
  if (!m) return;
  const params = m.params >= 1e6 ? (m.params / 1e6).toFixed(1) + 'M' : (m.params / 1e3).toFixed(0) + 'k';
  const seq = m.kind === 'seq2seq';
  document.body.classList.toggle('seq2seq', seq);
  $('text').placeholder = seq ? (m.tokenizer === 'ids' ? 'Type source token ids: 3 4 5' : `Type a source to translate, such as: ${m.example}`)
    : m.tokenizer === 'ids' ? 'Type token ids: 1 5 9 (the model directory has no tokenizer.json)' : 'Type a sentence: the model reads it as it changes';
  $('model-info').textContent = seq
    ? `encoder–decoder · ${m.encoder_layers} + ${m.layers} layers · ${m.heads} heads · ${m.width} wide · up to ${m.window} tokens · ` +
      `${m.vocab} tokens (${m.tokenizer}) · ${params} parameters · ${note || m.note}`
    : `${m.family === 'llama' ? 'Llama family (RMSNorm, rotary positions, SwiGLU) · ' : ''}${m.layers} layers · ${headsText(m)} · ${m.width} wide · context ${m.context} · ` +
      `${m.vocab} tokens (${m.tokenizer}) · ${params} parameters · ${note || m.note}`;
  const k = $('topk');
  k.max = Math.min(100, m.vocab);
  renderFlow();
}

// headsText says how many attention heads a GPT has, and how they share key/value heads.
function headsText(m) {
  return m.kv_heads ? `${m.heads} query heads sharing ${m.kv_heads} KV heads` : `${m.heads} heads`;
}

// isSeq says whether the chosen model is an encoder–decoder, which the Run view translates with.
function isSeq() {
  const m = modelInfo();
  return !!m && m.kind === 'seq2seq';
}

function defaultText() {
  const m = modelInfo();
  if (m && m.kind === 'seq2seq') return m.example || '';
  if (m && (m.tokenizer === 'gpt2' || m.tokenizer === 'hf')) return 'Humpty Dumpty sat on a';
  if (m && m.tokenizer === 'ids') return '1 5 9 12 4';
  if (state.train && state.train.config && state.train.config.text === 'humpty' && m && m.name === 'trained') {
    return 'Humpty Dumpty sat on a wall';
  }
  return 'First Citizen:\nBefore we proceed any further, hear me speak.';
}

// ---------- the Run view ----------

function sampling() {
  return { temperature: parseFloat($('temperature').value), top_k: parseInt($('topk').value, 10) };
}

const postRun = latest((body) => api('/api/run', body));
const postNext = latest((body) => api('/api/next', body));
const postTranslate = latest((body) => api('/api/translate', body));

async function runText() {
  const text = $('text').value;
  state.ids = null;
  updateURL(text);
  if (!text) { notice('Type some text to see the model read it.'); return; }
  try {
    if (isSeq()) {
      const r = await postTranslate({ model: state.model, text, beam: parseInt($('beam').value, 10) });
      if (r) renderSeq(r);
      return;
    }
    const r = await postRun({ model: state.model, text, ...sampling() });
    if (r) render(r);
  } catch (e) {
    notice(e.message, true);
  }
}

async function refreshRun() {
  // the same input, on the model as it is now (during training)
  if (!state.run || isSeq()) return runText();
  const body = state.ids ? { ids: state.ids } : { text: $('text').value };
  try {
    const r = await postRun({ model: state.model, ...body, ...sampling() });
    if (r) render(r);
  } catch (e) {
    notice(e.message, true);
  }
}

function updateURL(text) {
  const u = new URL(location.href);
  u.searchParams.set('text', text);
  if (state.model && state.models.length && state.model !== state.models[0].name) u.searchParams.set('model', state.model);
  else u.searchParams.delete('model');
  if (isSeq() && $('beam').value !== '1') u.searchParams.set('beam', $('beam').value);
  else u.searchParams.delete('beam');
  history.replaceState(null, '', u);
}

function render(r, newest) {
  state.run = r;
  const notes = [];
  if (r.cropped > 0) notes.push(`Showing the last ${r.tokens.length} of ${r.tokens.length + r.cropped} tokens (the most one run shows for this model).`);
  if (r.skipped && r.skipped.length) notes.push(`Left out, not in this model's vocabulary: ${r.skipped.map((s) => JSON.stringify(s)).join(' ')}`);
  notice(notes.join(' '));
  const m = modelInfo();
  if (m) { m.note = r.note; m.step = r.step; }
  showModelInfo(r.note);
  $('tokens-title').textContent = 'Tokens';
  renderTokens(r, newest);
  if (state.pos !== null && state.pos < r.tokens.length) $('tokens').children[state.pos]?.classList.add('picked');
  renderBars(r.next);
  showAttention(r);
  inside.load();
  if (!state.emb || state.emb.version !== r.version || state.emb.model !== r.model) loadEmbeddings(r.model);
  else drawEmbeddings();
}

// renderSeq shows an encoder–decoder's translation: the source tokens, the output tokens and the
// attention maps (cross-attention first).
function renderSeq(r) {
  if (state.seqModel !== r.model) {
    // a new encoder–decoder: its cross-attention first, in the last decoder layer, where the
    // alignment of output and source tokens is usually clearest
    state.seqModel = r.model;
    state.map = 0;
    state.layer = r.attention[0].layers - 1;
  }
  state.run = r;
  notice(r.ended ? '' : `The translation stopped after ${r.output.length} tokens (the most this model writes) without its end token.`);
  showModelInfo(r.note);
  $('tokens-title').textContent = 'Source tokens';
  chips($('tokens'), r.source, 'source');
  $('tokens-meta').textContent = `${r.source.length} ${r.tokenizer === 'ids' ? 'ids' : 'words'} · number: id · what the encoder reads`;
  $('translation').textContent = r.translation || '(nothing)';
  chips($('out-tokens'), r.output, 'output');
  $('out-meta').textContent = `${r.beam > 1 ? `beam search, ${r.beam} hypotheses` : 'greedy: the likeliest token at each step'} · log-probability ${r.log_prob.toFixed(3)}`;
  showAttention(r);
}

// chips fills box with a chip per token: its text, its id and, when the model gave it a
// probability, a colour from green (expected) to red (surprising). list names the tokens for the
// tooltip: 'tokens' (a GPT's run), 'source' or 'output'.
function chips(box, toks, list, newest) {
  const frag = document.createDocumentFragment();
  toks.forEach((t, i) => {
    const chip = el('span', 'tok');
    const piece = el('span', 'piece');
    piece.append(show(t.text));
    chip.append(piece, el('span', 'id', String(t.id)));
    if (t.p !== undefined) {
      // the less the model expected this token, the warmer its colour
      const s = Math.min(1, -Math.log(Math.max(t.p, 1e-9)) / Math.log(Math.max(toks.length, 50) * 4));
      chip.style.background = `hsl(${Math.round(140 - 140 * s)}, 70%, ${Math.round(93 - 10 * s)}%)`;
    }
    if (newest && i === toks.length - 1) chip.classList.add('new');
    chip.dataset.pos = i;
    chip.dataset.list = list;
    frag.append(chip);
  });
  box.replaceChildren(frag);
}

function renderTokens(r, newest) {
  chips($('tokens'), r.tokens, 'tokens', newest);
  const kind = r.tokenizer === 'char' ? 'characters' : 'BPE pieces';
  $('tokens-meta').textContent = `${r.tokens.length} ${kind} · number: id · colour: how expected (green) or surprising (red) each token was`;
}

function tokenTip(list, i) {
  const r = state.run;
  const t = r[list][i];
  if (list === 'source') return `<b class="mono">${esc(showText(t.text))}</b> id ${t.id}, source position ${i}`;
  const choices = t.top.map((c) => `<span class="mono">${esc(showText(c.text))}</span> ${pct(c.p)}`).join(', ');
  if (list === 'output') {
    return `<b class="mono">${esc(showText(t.text))}</b> id ${t.id}, output position ${i}` +
      `<br>the decoder gave it ${pct(t.p)} here<br>its likeliest choices here: ${choices}`;
  }
  let h = `<b class="mono">${esc(showText(t.text))}</b> id ${t.id}, position ${i}`;
  if (t.p !== undefined) h += `<br>the model gave it ${pct(t.p)} after what came before`;
  return h + '<br>it expects next: ' + choices;
}

function renderBars(next) {
  const box = $('bars');
  const rows = next.top.map((c) => {
    const row = el('div', 'bar-row');
    const label = el('span', 'bar-label');
    label.append(show(c.text));
    label.append(el('small', '', String(c.id)));
    const track = el('span', 'bar-track');
    const fill = el('span', 'bar-fill');
    fill.style.width = (c.p * 100).toFixed(2) + '%';
    const ghost = el('span', 'bar-ghost');
    ghost.style.left = `calc(${(c.p1 * 100).toFixed(2)}% - 1px)`;
    ghost.title = 'at temperature 1 with every token';
    track.append(fill, ghost);
    row.append(label, track, el('span', 'bar-pct', pct(c.p)));
    row.dataset.p = c.p.toFixed(6);
    return row;
  });
  const rest = el('div', 'bar-rest', next.rest > 0.0005 ? `all other tokens: ${pct(next.rest)} · the dark tick is each token's probability at temperature 1` : 'the dark tick is each token\'s probability at temperature 1');
  box.replaceChildren(...rows, rest);
  $('next-meta').textContent = `after the last token`;
}

async function slidersChanged() {
  const { temperature, top_k } = sampling();
  $('temperature-out').textContent = temperature.toFixed(2);
  $('topk-out').textContent = top_k === 0 ? 'all' : String(top_k);
  if (!state.run || isSeq()) return;
  try {
    const r = await postNext({ model: state.model, ids: state.run.tokens.map((t) => t.id), temperature, top_k });
    if (r) renderBars(r.next);
  } catch (e) {
    notice(e.message, true);
  }
}

async function generateOne() {
  const btn = $('generate');
  btn.disabled = true;
  try {
    const body = state.ids ? { ids: state.ids } : { text: $('text').value };
    const r = await api('/api/generate', { model: state.model, ...body, ...sampling() });
    state.ids = r.ids;
    $('text').value = r.text;
    updateURL(r.text);
    $('gen-info').textContent = `sampled “${showText(r.token.text)}” (id ${r.token.id}, seed ${r.seed})`;
    render(r.run, true);
  } catch (e) {
    notice(e.message, true);
  } finally {
    btn.disabled = false;
  }
}

// ---------- the flow diagram ----------

// renderFlow draws the model's parts in the order they work, from its configuration: the
// tokens, the embeddings with the positions, each layer's attention and MLP, the next-token
// probabilities. A box leads to the panel that shows that part (an attention box to its
// layer's map).
function renderFlow() {
  const m = modelInfo();
  const box = $('flow');
  if (!m || m.kind !== 'gpt') { box.replaceChildren(); return; }
  const NS = 'http://www.w3.org/2000/svg';
  const mk = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const layers = Math.min(m.layers, 12);
  const bw = 128, bh = 46, gap = 20;
  const llama = m.family === 'llama';
  const items = [
    { text: ['tokens', `${m.vocab} kinds`], go: 'tokens-card', fill: '#fff1d6' },
    { text: ['embedding', llama ? `${m.width} wide, no positions` : `+ position: ${m.width} wide`], go: 'emb-card', fill: '#dbe6fd' },
  ];
  const ff = m.ff_hidden || 4 * m.width;
  for (let l = 0; l < layers; l++) {
    items.push({ text: [`layer ${l + 1}: attention`, llama ? `${m.heads}q/${m.kv_heads || m.heads}kv heads, rotary` : `${m.heads} heads`], go: 'attn-card', layer: l, fill: '#dbe6fd' });
    items.push({ text: [`layer ${l + 1}: ${llama ? 'SwiGLU' : 'MLP'}`, `${m.width}→${ff}→${m.width}`], go: 'inside-card', layer: l, fill: '#eceff4' });
  }
  if (m.layers > layers) items.push({ text: [`… ${m.layers - layers} more layers`, ''], fill: '#eceff4' });
  items.push({ text: ['next token', 'probabilities'], go: 'next-card', fill: '#fff1d6' });
  const w = items.length * (bw + gap) - gap + 4, h = bh + 8;
  const svg = mk('svg', { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img' });
  items.forEach((it, i) => {
    const x = 2 + i * (bw + gap), y = 4;
    if (i > 0) {
      svg.append(mk('line', { x1: x - gap + 2, y1: y + bh / 2, x2: x - 5, y2: y + bh / 2, stroke: '#3c465a', 'stroke-width': 1.4 }));
      svg.append(mk('path', { d: `M${x - 1},${y + bh / 2} l-6,-4 v8 z`, fill: '#3c465a' }));
    }
    const g = mk('g', { class: it.go ? 'box' : 'box static', 'data-go': it.go || '' });
    if (it.tip) g.append(mk('title', {}, it.tip));
    g.append(mk('rect', { x, y, width: bw, height: bh, rx: 6, fill: it.fill, stroke: '#5a6478' }));
    g.append(mk('text', { x: x + bw / 2, y: y + 19, 'text-anchor': 'middle', 'font-size': 12 }, it.text[0]));
    g.append(mk('text', { x: x + bw / 2, y: y + 35, 'text-anchor': 'middle', 'font-size': 11, fill: '#667085' }, it.text[1]));
    if (it.go) {
      g.addEventListener('click', () => {
        if (it.layer !== undefined && state.att) { state.layer = Math.min(it.layer, state.att.layers - 1); $('layer').value = state.layer; renderAttention(); inside.load(); }
        const card = $(it.go);
        card.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
        card.classList.add('flash');
        setTimeout(() => card.classList.remove('flash'), 900);
      });
    }
    svg.append(g);
  });
  box.replaceChildren(svg);
  box.dataset.boxes = String(items.length);
}

// ---------- attention ----------

// What the rows and columns of each kind of map are, for the labels and the tooltip.
const mapWords = {
  self: { title: 'self-attention', row: 'position', col: 'position', rowAxis: 'the token that looks', colAxis: 'the token it looks at' },
  cross: { title: 'cross-attention: output × source', row: 'output', col: 'source', rowAxis: 'the output token being written', colAxis: 'the source token it looks at' },
  decoder: { title: 'decoder self-attention', row: 'output', col: 'decoder input', rowAxis: 'the output token being written', colAxis: 'the tokens written before it' },
  encoder: { title: 'encoder self-attention', row: 'source', col: 'source', rowAxis: 'the source token that looks', colAxis: 'the source token it looks at' },
};

function words(a) {
  return mapWords[a.name] || mapWords.self;
}

// showAttention fills the map picker from r.attention and draws the chosen map.
function showAttention(r) {
  state.map = Math.min(state.map, r.attention.length - 1);
  const sel = $('map');
  const names = r.attention.map((a) => a.name).join(',');
  if (sel.dataset.names !== names) {
    sel.replaceChildren(...r.attention.map((a, i) => { const o = el('option', '', words(a).title); o.value = i; return o; }));
    sel.dataset.names = names;
  }
  sel.value = state.map;
  decodeAttention(r.attention[state.map]);
  renderAttention();
}

// labels returns the texts of a map's rows and columns: its own, or a GPT run's tokens.
function labels(a) {
  const toks = state.run.tokens ? state.run.tokens.map((t) => t.text) : [];
  return { rows: a.row_labels || toks, cols: a.col_labels || toks };
}

function masked(a, i, j) {
  return (a.causal || a.name === 'self') && j > i;
}

function decodeAttention(a) {
  const bin = atob(a.data);
  const n = bin.length / 2;
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8)) / 65535;
  state.att = { ...a, w };
  state.layer = Math.min(state.layer, a.layers - 1);
  state.head = Math.min(state.head, a.heads - 1);
  const fill = (sel, n, v) => {
    // layers and heads are counted from 1, as the lessons count them
    if (sel.options.length !== n) sel.replaceChildren(...Array.from({ length: n }, (_, i) => { const o = el('option', '', String(i + 1)); o.value = i; return o; }));
    sel.value = v;
  };
  fill($('layer'), a.layers, state.layer);
  fill($('head'), a.heads, state.head);
  if (a.kv_head) [...$('head').options].forEach((o, h) => { o.textContent = `${h + 1} · KV ${a.kv_head[h] + 1}`; });
}

// The colours of the groups of query heads that share a key/value head.
const groupColors = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948', '#9c755f'];

// kvGroup returns, for a model with grouped KV heads, the KV head that query head h reads and
// the query heads that share it (counted from 0); null otherwise.
function kvGroup(a, h) {
  if (!a.kv_head) return null;
  const g = a.kv_head[h];
  const heads = a.kv_head.map((x, i) => [x, i]).filter(([x]) => x === g).map(([, i]) => i);
  return { g, heads, color: groupColors[g % groupColors.length] };
}

function kvText(a, h) {
  const k = kvGroup(a, h);
  if (!k) return '';
  return ` · reads KV head ${k.g + 1}, shared by heads ${k.heads[0] + 1}–${k.heads[k.heads.length - 1] + 1}`;
}

function weight(l, h, i, j) {
  const a = state.att;
  return a.w[((l * a.heads + h) * a.rows + i) * a.cols + j];
}

// labelChars is the most characters of a token the heat map writes: words for an
// encoder–decoder, short pieces for a GPT.
function labelChars() {
  return isSeq() ? 9 : 4;
}

// heatGeometry lays out the heat map: the margins for the labels, the cell size, and the label
// font and stride. Where the cells are too small for a label each (a long text), every step-th
// token is written, so the axes stay readable at any length.
function heatGeometry() {
  const a = state.att;
  const avail = Math.max(120, Math.min(contentWidth($('attn-card')), isSeq() ? 460 : 340));
  const n = Math.max(a.rows, a.cols);
  const font = Math.max(9, Math.min(13, (avail - 40) / n - 1));
  // room for the longest label (0.62 em a character), and never less than a GPT's
  const lab = labels(a);
  const longest = (xs) => Math.min(labelChars(), Math.max(1, ...xs.map((t) => [...t].length)));
  const ml = Math.max(36, 10 + Math.ceil(0.62 * font) * longest(lab.rows));
  const mt = Math.max(30, 10 + Math.ceil(0.62 * font) * longest(lab.cols));
  let cell = (avail - ml - 2) / n;
  if (isSeq()) cell = Math.min(cell, (360 - mt) / a.rows); // short enough that the thumbnails show too
  const step = Math.max(1, Math.ceil((font + 1) / cell));
  return { ml, mt, cell, w: Math.ceil(ml + cell * a.cols + 2), h: mt + cell * a.rows + 2, font, step };
}

function renderAttention(skipThumbs) {
  if (!state.att) return;
  const a = state.att, lab = labels(a);
  const geo = heatGeometry();
  const c = $('heat');
  const g = setupCanvas(c, geo.w, geo.h);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) {
      g.fillStyle = masked(a, i, j) ? '#f1f2f4' : heat(weight(state.layer, state.head, i, j));
      g.fillRect(geo.ml + j * geo.cell, geo.mt + i * geo.cell, Math.ceil(geo.cell), Math.ceil(geo.cell));
    }
  }
  if (state.hover) {
    const [i, j] = state.hover;
    g.strokeStyle = '#e4572e';
    g.lineWidth = 1.5;
    g.strokeRect(geo.ml, geo.mt + i * geo.cell, a.cols * geo.cell, geo.cell);
    g.strokeRect(geo.ml + j * geo.cell, geo.mt, geo.cell, a.rows * geo.cell);
  }
  {
    g.fillStyle = '#1c2230';
    g.font = `${geo.font}px ui-monospace, monospace`;
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    lab.rows.forEach((t, i) => { if (i % geo.step === 0) g.fillText(showText(t).slice(0, labelChars()), geo.ml - 4, geo.mt + (i + 0.5) * geo.cell); });
    g.textAlign = 'center';
    lab.cols.forEach((t, j) => {
      if (j % geo.step !== 0) return;
      g.save();
      g.translate(geo.ml + (j + 0.5) * geo.cell, geo.mt - 4);
      if ([...t].length > 1) { g.rotate(-Math.PI / 2); g.textAlign = 'left'; }
      g.fillText(showText(t).slice(0, labelChars()), 0, [...t].length > 1 ? 0 : -4);
      g.restore();
    });
  }
  c.dataset.rendered = `${state.run.version}:${a.name}:${state.layer}:${state.head}`;
  c.dataset.map = a.name;
  c.dataset.labels = String(Math.ceil(a.rows / geo.step)); // row labels written, for the tests
  const wd = words(a);
  $('attn-meta').textContent = `${a.name === 'self' ? '' : wd.title + ' · '}layer ${state.layer + 1}, head ${state.head + 1}${kvText(a, state.head)} · row: ${wd.rowAxis} · column: ${wd.colAxis}`;
  if (!skipThumbs) renderThumbs();
}

function renderThumbs() {
  const a = state.att;
  const box = $('thumbs');
  const all = a.layers * a.heads <= 64;
  const layers = all ? [...Array(a.layers).keys()] : [state.layer];
  const cw = Math.floor(Math.max(14, Math.min(a.layers > 2 ? 34 : 48, (contentWidth($('attn-card')) - 24) / a.heads - 3)));
  box.style.gridTemplateColumns = `18px repeat(${a.heads}, ${cw}px)`;
  const cells = [];
  if (a.kv_head) {
    // grouped-query attention: a row of labels over each group of query heads, one colour per
    // KV head, repeated on the borders of the group's maps
    cells.push(el('span', 'axis', ''));
    for (let h = 0; h < a.heads;) {
      const k = kvGroup(a, h);
      const n = k.heads.length;
      const lab = el('span', 'kv-group', n * cw > 60 ? `KV head ${k.g + 1}` : `KV${k.g + 1}`);
      lab.title = `query heads ${k.heads[0] + 1}–${k.heads[n - 1] + 1} share key/value head ${k.g + 1}`;
      lab.style.gridColumn = `span ${n}`;
      lab.style.borderColor = k.color;
      lab.style.color = k.color;
      cells.push(lab);
      h += n;
    }
  }
  cells.push(el('span', 'axis', ''));
  for (let h = 0; h < a.heads; h++) cells.push(el('span', 'axis', 'h' + (h + 1)));
  for (const l of layers) {
    cells.push(el('span', 'axis', 'L' + (l + 1)));
    for (let h = 0; h < a.heads; h++) {
      const c = el('canvas');
      c.title = `layer ${l + 1}, head ${h + 1}${kvText(a, h)}`;
      const k = kvGroup(a, h);
      if (k) { c.style.borderColor = k.color; c.classList.add('grouped'); }
      const px = Math.round(cw * (window.devicePixelRatio || 1));
      c.width = px;
      c.height = px;
      const g = c.getContext('2d');
      const img = g.createImageData(px, px);
      for (let y = 0; y < px; y++) {
        const i = Math.floor(y * a.rows / px);
        for (let x = 0; x < px; x++) {
          const j = Math.floor(x * a.cols / px);
          const v = masked(a, i, j) ? -1 : Math.sqrt(weight(l, h, i, j));
          const o = 4 * (y * px + x);
          if (v < 0) { img.data[o] = 241; img.data[o + 1] = 242; img.data[o + 2] = 244; } else {
            img.data[o] = 255 - 247 * v; img.data[o + 1] = 255 - 207 * v; img.data[o + 2] = 255 - 148 * v;
          }
          img.data[o + 3] = 255;
        }
      }
      g.putImageData(img, 0, 0);
      if (l === state.layer && h === state.head) c.classList.add('on');
      c.addEventListener('click', () => { state.layer = l; state.head = h; $('layer').value = l; $('head').value = h; renderAttention(); inside.load(); });
      cells.push(c);
    }
  }
  box.replaceChildren(...cells);
}

function heatHover(ev) {
  if (!state.att) return;
  const geo = heatGeometry();
  const rect = $('heat').getBoundingClientRect();
  const j = Math.floor((ev.clientX - rect.left - geo.ml) / geo.cell);
  const i = Math.floor((ev.clientY - rect.top - geo.mt) / geo.cell);
  const a = state.att, lab = labels(a), wd = words(a);
  if (i < 0 || j < 0 || i >= a.rows || j >= a.cols) { heatLeave(); return; }
  const q = `${a.name === 'cross' || a.name === 'decoder' ? 'writing ' : ''}<b class="mono">${esc(showText(lab.rows[i]))}</b> (${wd.row} ${i})`;
  const k = `<b class="mono">${esc(showText(lab.cols[j]))}</b> (${wd.col} ${j})`;
  const html = masked(a, i, j)
    ? `${q} cannot look at ${k}: it comes later (causal mask)`
    : `${q} looks at ${k}<br>weight <b>${weight(state.layer, state.head, i, j).toFixed(4)}</b> (layer ${state.layer + 1}, head ${state.head + 1}${kvText(a, state.head)})`;
  tip.show(html, ev.clientX, ev.clientY);
  if (!state.hover || state.hover[0] !== i || state.hover[1] !== j) {
    state.hover = [i, j];
    renderAttentionOnly();
  }
}

function heatLeave() {
  tip.hide();
  if (state.hover) { state.hover = null; renderAttentionOnly(); }
}

function renderAttentionOnly() {
  renderAttention(true); // the hover outline: the thumbnails stay as they are
}

// ---------- embeddings ----------

async function loadEmbeddings(name) {
  try {
    const d = await api('/api/embeddings?model=' + encodeURIComponent(name));
    if (name !== state.model) return;
    state.emb = d;
    drawEmbeddings();
  } catch (e) {
    notice(e.message, true);
  }
}

// embRange is the span of one axis the map shows: the middle of the tokens (from the 3rd to
// the 97th percentile, with a margin), so that a few outliers (capitals, rare signs) do not
// squeeze the common tokens into a corner; the tokens outside are drawn at the edge.
function embRange(v) {
  const s = Float64Array.from(v).sort();
  const q = (p) => s[Math.round(p * (s.length - 1))];
  let lo = s.length > 30 ? q(0.03) : s[0], hi = s.length > 30 ? q(0.97) : s[s.length - 1];
  const m = (hi - lo) * 0.12;
  lo -= m; hi += m;
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  return [lo, hi];
}

function embGeometry() {
  const d = state.emb;
  const w = Math.max(160, Math.min(contentWidth($('emb-card')), 460));
  const h = Math.round(Math.min(w, 420));
  let [x0, x1] = embRange(d.x), [y0, y1] = embRange(d.y);
  const pts = $('emb-zoom').checked ? runPoints(state.run, d) : null;
  if (pts && pts.length) { // the text's tokens, with a margin, and at least a fifth of the map
    const span = (v, lo, hi) => {
      let a = Math.min(...v), b = Math.max(...v);
      const m = Math.max((b - a) * 0.15, (hi - lo) * 0.1);
      return [a - m, b + m];
    };
    [x0, x1] = span(pts.map((p) => p[0]), x0, x1);
    [y0, y1] = span(pts.map((p) => p[1]), y0, y1);
  }
  const pad = 16;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return {
    w, h,
    px: (x) => pad + clamp((x - x0) / (x1 - x0), 0, 1) * (w - 2 * pad),
    py: (y) => h - pad - clamp((y - y0) / (y1 - y0), 0, 1) * (h - 2 * pad),
    outside: (x, y) => x < x0 || x > x1 || y < y0 || y > y1,
  };
}

// runPoints returns where the run's tokens sit on the map: taken from the map itself (so they
// stay on it while a training run publishes new weights between the two requests), or from the
// run's own coordinates where the map is of the same weights.
function runPoints(r, d) {
  if (!r || !r.coords || r.model !== d.model) return null;
  const at = new Map(d.ids.map((id, i) => [id, i]));
  const pts = [];
  for (let i = 0; i < r.tokens.length; i++) {
    const k = at.get(r.tokens[i].id);
    if (k !== undefined) pts.push([d.x[k], d.y[k]]);
    else if (r.version === d.version) pts.push(r.coords[i]);
    else return null;
  }
  return pts;
}

function drawEmbeddings() {
  const d = state.emb;
  if (!d || isSeq() || !state.run || !state.run.coords) return;
  const geo = embGeometry();
  const c = $('emb');
  const g = setupCanvas(c, geo.w, geo.h);
  g.fillStyle = '#fafbfc';
  g.fillRect(0, 0, geo.w, geo.h);
  g.strokeStyle = '#e3e6eb';
  g.strokeRect(0.5, 0.5, geo.w - 1, geo.h - 1);
  const glyphs = d.ids.length <= 300;
  g.font = '11px ui-monospace, monospace';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  let outside = 0;
  for (let i = 0; i < d.ids.length; i++) {
    const x = geo.px(d.x[i]), y = geo.py(d.y[i]);
    const out = geo.outside(d.x[i], d.y[i]);
    if (out) outside++;
    if (glyphs) {
      g.fillStyle = out ? '#c3c9d4' : '#8a94a6';
      g.fillText(showText(d.labels[i]).slice(0, 3), x, y);
    } else {
      g.fillStyle = 'rgba(102,112,133,.35)';
      g.fillRect(x - 1, y - 1, 2, 2);
    }
  }
  const r = state.run;
  const pts = runPoints(r, d);
  c.dataset.highlighted = String(pts ? pts.length : 0);
  if (pts) {
    const seen = new Set();
    g.font = 'bold 12px ui-monospace, monospace';
    pts.forEach((p, i) => {
      const id = r.tokens[i].id;
      const x = geo.px(p[0]), y = geo.py(p[1]);
      g.fillStyle = '#2563eb';
      g.beginPath();
      g.arc(x, y, 3.5, 0, 2 * Math.PI);
      g.fill();
      if (!seen.has(id)) {
        seen.add(id);
        g.fillStyle = '#1c2230';
        g.fillText(showText(r.tokens[i].text).slice(0, 6), x, y - 10);
      }
    });
  }
  c.dataset.rendered = String(d.version);
  const v = d.variance;
  $('emb-meta').textContent = `PCA of wte: axes hold ${(v[0] * 100).toFixed(0)}% and ${(v[1] * 100).toFixed(0)}% of the variance` +
    (d.ids.length < d.vocab ? ` · first ${d.ids.length} of ${d.vocab} tokens` : '') +
    (outside ? ` · ${outside} tokens outside the view drawn pale at the edge` : '') + ' · blue: your text';
}

function embHover(ev) {
  const d = state.emb;
  if (!d) return;
  const geo = embGeometry();
  const rect = $('emb').getBoundingClientRect();
  const mx = ev.clientX - rect.left, my = ev.clientY - rect.top;
  let best = -1, bd = 100;
  for (let i = 0; i < d.ids.length; i++) {
    const dx = geo.px(d.x[i]) - mx, dy = geo.py(d.y[i]) - my;
    const dd = dx * dx + dy * dy;
    if (dd < bd) { bd = dd; best = i; }
  }
  if (best < 0) { tip.hide(); return; }
  tip.show(`<b class="mono">${esc(showText(d.labels[best]))}</b> id ${d.ids[best]}<br>(${d.x[best].toFixed(3)}, ${d.y[best].toFixed(3)})`, ev.clientX, ev.clientY);
}

// ---------- the Train view ----------

const fieldNames = ['bpe_vocab', 'n_layer', 'n_head', 'n_embd', 'block_size', 'batch_size', 'max_iters', 'lr', 'eval_interval'];

function chosenText() {
  return document.querySelector('input[name=text]:checked').value;
}

function fillPreset(name) {
  const p = state.presets[name];
  if (!p) return;
  $('t-tokenizer').value = p.tokenizer;
  for (const f of fieldNames) $('t-' + f).value = p[f];
  $('custom-text').hidden = name !== 'custom';
  $('bpe-field').hidden = p.tokenizer !== 'bpe';
  if (!state.train || !state.train.run) drawLoss();
}

function trainConfig() {
  const cfg = { text: chosenText(), tokenizer: $('t-tokenizer').value };
  for (const f of fieldNames) {
    const v = $('t-' + f).value;
    cfg[f] = f === 'lr' ? parseFloat(v) : parseInt(v, 10);
    if (!Number.isFinite(cfg[f])) cfg[f] = 0;
  }
  if (cfg.text === 'custom') cfg.custom_text = $('custom-text').value;
  return cfg;
}

async function trainAction(path, body) {
  try {
    const st = await api(path, body === undefined ? {} : body);
    mergeTrain(st, true);
    return st;
  } catch (e) {
    setTrainMessage(e.message, true);
    return null;
  }
}

// startTraining starts a run from the form and points the Run view at the model it trains (the
// page may have been showing the shipped model): the run is what the learner wants to watch.
async function startTraining() {
  const st = await trainAction('/api/train/start', trainConfig());
  if (st && st.state === 'running' && state.model !== 'trained') {
    state.emb = null;
    await loadModels('trained');
    runText();
  }
}

// fillFromRun sets the form to the settings of the server's run, so that after a reload the form
// shows what the curve beside it was trained with (a pasted text is not sent back: it stays as
// the learner left it).
function fillFromRun(cfg) {
  const radio = document.querySelector(`input[name=text][value="${cfg.text}"]`);
  if (radio) radio.checked = true;
  $('t-tokenizer').value = cfg.tokenizer;
  for (const f of fieldNames) if (cfg[f] !== undefined) $('t-' + f).value = cfg[f];
  $('custom-text').hidden = cfg.text !== 'custom';
  $('bpe-field').hidden = cfg.tokenizer !== 'bpe';
}

function setTrainMessage(msg, bad) {
  const m = $('train-message');
  m.textContent = msg || '';
  m.classList.toggle('bad', !!bad);
}

// mergeTrain folds a status into state.train: whole (an answer to a request) or a piece of the
// event stream, whose losses start at loss_from. The stream is the source of the curve: a whole
// status that is older than what the stream already gave does not shorten it, and a piece that
// leaves a gap makes the page fetch the whole status again.
function mergeTrain(st, whole) {
  const prev = state.train;
  const same = !!prev && prev.run === st.run;
  let loss, evals;
  if (whole) {
    const older = same && prev.loss.length > (st.loss || []).length;
    loss = older ? prev.loss : (st.loss || []).slice();
    evals = older ? prev.evals : (st.evals || []).slice();
  } else {
    loss = same ? prev.loss : [];
    evals = same ? prev.evals : [];
    if (st.loss_from > loss.length || st.evals_from > evals.length) {
      fetchTrain();
      return;
    }
    loss.length = st.loss_from;
    for (const x of st.loss || []) loss.push(x);
    evals.length = st.evals_from;
    for (const x of st.evals || []) evals.push(x);
  }
  state.train = { ...st, loss, evals };
  if (!prev && st.run && st.config) fillFromRun(st.config);
  if (prev && !same && state.model === 'trained') {
    loadModels('trained').then(() => { if (!state.run || state.run.model === 'trained') runText(); });
  }
  const t = state.train;
  const m = modelInfo();
  if (t.run && m && m.name === 'trained' && state.model === 'trained') {
    m.note = `training run ${t.run}, step ${t.step} of ${t.max_iters}`;
    showModelInfo();
  }
  renderTrain();
  follow();
}

async function fetchTrain() {
  try { mergeTrain(await api('/api/train'), true); } catch (e) { setTrainMessage(e.message, true); }
}

function renderTrain() {
  const t = state.train;
  if (!t) return;
  const running = t.state === 'running';
  $('start').disabled = running;
  $('stop').disabled = !running;
  $('resume').disabled = t.state !== 'stopped';
  $('save').disabled = !['running', 'stopped', 'finished'].includes(t.state);
  const bits = [];
  if (t.run) {
    bits.push(`run ${t.run} · ${t.state} · step ${t.step} of ${t.max_iters}`);
    if (t.ms_per_iter) bits.push(`${t.ms_per_iter.toFixed(1)} ms/iteration`);
    if (t.lr) bits.push(`lr ${t.lr.toExponential(1)}`);
    if (t.params) bits.push(`${(t.params / 1e3).toFixed(0)}k parameters`);
  } else {
    bits.push('no run yet: pick a text and press Start');
  }
  $('train-status').textContent = bits.join(' · ');
  setTrainMessage(t.message, t.state === 'diverged' || t.state === 'failed');
  $('sample').textContent = t.sample || (t.run ? 'a sample appears every few seconds…' : '');
  $('sample-meta').textContent = t.sample ? `at step ${t.sample_step}, temperature 0.8` : '';
  $('saved').textContent = t.saved || '';
  drawLoss();
}

function drawLoss() {
  const t = state.train;
  const card = $('loss-card');
  const w = Math.max(200, contentWidth(card));
  const h = Math.round(Math.max(180, Math.min(300, w * 0.45)));
  const c = $('loss');
  const loss = (t && t.loss) || [], evals = (t && t.evals) || [];
  c.dataset.points = String(loss.length);
  c.dataset.evals = String(evals.length);
  // before any run, the axis spans the iterations the form would run
  const maxX = Math.max(1, t && t.run ? t.max_iters : parseInt($('t-max_iters').value, 10) || 1);
  drawLossChart(c, { w, h, loss, evals, maxX, valIsTrain: !!(t && t.val_is_train) });
}

// follow re-runs the Run view's text every few seconds while the model it shows is training.
function follow() {
  const t = state.train;
  if (!t || t.state !== 'running' || state.model !== 'trained' || $('view-run').hidden) return;
  if (Date.now() - state.lastFollow < 2500) return;
  state.lastFollow = Date.now();
  refreshRun();
}

function listenTrain() {
  const es = new EventSource('/api/train/events');
  es.addEventListener('train', (ev) => {
    try { mergeTrain(JSON.parse(ev.data), false); } catch (e) { /* a bad event: wait for the next */ }
  });
}

// ---------- wiring ----------

function selectTab(name) {
  for (const n of ['run', 'train', 'story']) {
    $('tab-' + n).setAttribute('aria-selected', String(n === name));
    $('view-' + n).hidden = n !== name;
  }
  if (name === 'train') drawLoss();
  else if (name === 'story') story.render();
  else if (state.run) { renderAttention(); drawEmbeddings(); }
}

let story, inside;

function debounce(fn, ms) {
  let t = 0;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

async function main() {
  $('tab-run').addEventListener('click', () => selectTab('run'));
  $('tab-train').addEventListener('click', () => selectTab('train'));
  $('tab-story').addEventListener('click', () => selectTab('story'));
  story = initStory({ $, el, api, state, showText, pct, modelInfo });
  inside = initInside({ $, el, api, state, showText, pct });
  $('tokens').addEventListener('click', (e) => {
    const chip = e.target.closest('.tok');
    if (!chip || isSeq()) return;
    state.pos = +chip.dataset.pos;
    document.querySelectorAll('#tokens .tok.picked').forEach((c) => c.classList.remove('picked'));
    chip.classList.add('picked');
    inside.load();
  });
  $('run').addEventListener('click', runText);
  $('text').addEventListener('input', debounce(runText, 350));
  $('text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runText(); } });
  $('copy-link').addEventListener('click', async () => {
    updateURL($('text').value);
    try { await navigator.clipboard.writeText(location.href); $('copy-link').textContent = 'Copied'; } catch (e) { $('copy-link').textContent = 'In the address bar'; }
    setTimeout(() => { $('copy-link').textContent = 'Copy link'; }, 1500);
  });
  $('model').addEventListener('change', () => {
    state.model = $('model').value;
    state.emb = null;
    showModelInfo();
    story.render();
    runText();
  });
  $('temperature').addEventListener('input', slidersChanged);
  $('topk').addEventListener('input', slidersChanged);
  $('generate').addEventListener('click', generateOne);
  $('layer').addEventListener('change', () => { state.layer = +$('layer').value; renderAttention(); inside.load(); });
  $('map').addEventListener('change', () => { state.map = +$('map').value; if (state.run) showAttention(state.run); });
  $('beam').addEventListener('change', runText);
  $('head').addEventListener('change', () => { state.head = +$('head').value; renderAttention(); });
  $('heat').addEventListener('pointermove', heatHover);
  $('heat').addEventListener('pointerdown', heatHover);
  $('heat').addEventListener('pointerleave', heatLeave);
  $('emb').addEventListener('pointermove', embHover);
  $('emb').addEventListener('pointerdown', embHover);
  $('emb').addEventListener('pointerleave', () => tip.hide());
  $('emb-zoom').addEventListener('change', drawEmbeddings);
  $('tokens').addEventListener('pointerover', (e) => {
    const chip = e.target.closest('.tok');
    if (chip) tip.show(tokenTip(chip.dataset.list, +chip.dataset.pos), e.clientX, e.clientY);
  });
  $('tokens').addEventListener('pointerout', (e) => { if (e.target.closest('.tok')) tip.hide(); });
  $('out-tokens').addEventListener('pointerover', (e) => {
    const chip = e.target.closest('.tok');
    if (chip) tip.show(tokenTip(chip.dataset.list, +chip.dataset.pos), e.clientX, e.clientY);
  });
  $('out-tokens').addEventListener('pointerout', (e) => { if (e.target.closest('.tok')) tip.hide(); });
  document.querySelectorAll('input[name=text]').forEach((r) => r.addEventListener('change', () => fillPreset(chosenText())));
  $('t-tokenizer').addEventListener('change', () => { $('bpe-field').hidden = $('t-tokenizer').value !== 'bpe'; });
  $('t-max_iters').addEventListener('input', () => { if (!state.train || !state.train.run) drawLoss(); });
  $('train-form').addEventListener('submit', (e) => { e.preventDefault(); startTraining(); });
  $('stop').addEventListener('click', () => trainAction('/api/train/stop'));
  $('resume').addEventListener('click', () => trainAction('/api/train/resume'));
  $('save').addEventListener('click', () => trainAction('/api/train/save'));
  window.addEventListener('resize', debounce(() => {
    if (state.run && !$('view-run').hidden) { renderAttention(); drawEmbeddings(); }
    if (!$('view-train').hidden) drawLoss();
  }, 150));

  const params = new URLSearchParams(location.search);
  try {
    await loadModels(params.get('model') || '');
  } catch (e) {
    notice('Cannot reach the server: ' + e.message, true);
    return;
  }
  fillPreset('shakespeare');
  slidersChanged();
  listenTrain();
  if (['1', '2', '4', '8'].includes(params.get('beam'))) $('beam').value = params.get('beam');
  $('text').value = params.has('text') ? params.get('text') : defaultText();
  if (params.has('step')) story.go(parseInt(params.get('step'), 10));
  if (['train', 'story'].includes(params.get('tab'))) selectTab(params.get('tab'));
  runText();
}

document.addEventListener('DOMContentLoaded', main);
