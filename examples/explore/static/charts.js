// goformer explore: the drawing helpers, plain canvas 2-D.

// setupCanvas sizes a canvas to css width × height at the screen's pixel density and returns
// its context, scaled so that drawing uses css pixels.
export function setupCanvas(c, w, h) {
  const dpr = window.devicePixelRatio || 1;
  c.style.width = w + 'px';
  c.style.height = h + 'px';
  c.width = Math.round(w * dpr);
  c.height = Math.round(h * dpr);
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  return g;
}

// heat maps a weight in [0, 1] to a colour: white to deep blue, on a square-root scale so that
// the small weights of long rows still show.
export function heat(w) {
  const t = Math.sqrt(Math.max(0, Math.min(1, w)));
  const stops = [[255, 255, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return `rgb(${Math.round(a[0] + (b[0] - a[0]) * f)},${Math.round(a[1] + (b[1] - a[1]) * f)},${Math.round(a[2] + (b[2] - a[2]) * f)})`;
}

export function niceStep(span, n) {
  const raw = span / Math.max(1, n);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const r = raw / mag;
  return (r >= 5 ? 10 : r >= 2 ? 5 : r >= 1 ? 2 : 1) * mag;
}

// drawLossChart draws the loss curves: the batch losses (thin, averaged per pixel column when
// there are more points than pixels) and the evaluations of each split (thick, with dots), with
// axes, ticks and a legend. o: {w, h, loss: [per iteration], evals: [{step, train, val}], maxX,
// valIsTrain}.
export function drawLossChart(c, o) {
  const { w, h, loss, evals, maxX } = o;
  const g = setupCanvas(c, w, h);
  const ml = 44, mr = 10, mt = 22, mb = 30;
  const pw = w - ml - mr, ph = h - mt - mb;
  const vals = loss.concat(evals.map((e) => e.train), evals.map((e) => e.val)).filter(Number.isFinite);
  let y0 = vals.length ? Math.min(...vals) : 0, y1 = vals.length ? Math.max(...vals) : 5;
  if (y1 - y0 < 0.1) { y0 -= 0.05; y1 += 0.05; }
  const span = y1 - y0;
  y0 = Math.max(0, y0 - 0.05 * span);
  y1 += 0.05 * span;
  const px = (x) => ml + x / maxX * pw;
  const py = (y) => mt + (1 - (y - y0) / (y1 - y0)) * ph;
  // axes and ticks
  g.strokeStyle = '#dde1e7';
  g.fillStyle = '#667085';
  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  const ys = niceStep(y1 - y0, 5);
  for (let y = Math.ceil(y0 / ys) * ys; y <= y1 + 1e-9; y += ys) {
    g.beginPath(); g.moveTo(ml, Math.round(py(y)) + 0.5); g.lineTo(ml + pw, Math.round(py(y)) + 0.5); g.stroke();
    g.fillText(y.toFixed(ys < 0.1 ? 2 : 1), ml - 5, py(y));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const xs = Math.max(1, niceStep(maxX, Math.max(2, Math.floor(pw / 80))));
  for (let x = 0; x <= maxX + 1e-9; x += xs) {
    g.beginPath(); g.moveTo(Math.round(px(x)) + 0.5, mt + ph); g.lineTo(Math.round(px(x)) + 0.5, mt + ph + 4); g.stroke();
    g.fillText(String(Math.round(x)), px(x), mt + ph + 6);
  }
  g.strokeStyle = '#98a2b3';
  g.beginPath(); g.moveTo(ml + 0.5, mt); g.lineTo(ml + 0.5, mt + ph + 0.5); g.lineTo(ml + pw, mt + ph + 0.5); g.stroke();
  g.save();
  g.translate(11, mt + ph / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = 'middle';
  g.fillText('loss', 0, 0);
  g.restore();
  g.textAlign = 'right';
  g.textBaseline = 'bottom';
  g.fillText('iteration', ml + pw, h - 1);
  // the batch losses: thin, averaged per pixel column when there are more points than pixels
  if (loss.length) {
    g.strokeStyle = 'rgba(37,99,235,.35)';
    g.lineWidth = 1;
    g.beginPath();
    const per = Math.max(1, Math.floor(loss.length / pw));
    for (let i = 0; i < loss.length; i += per) {
      let s = 0, n = 0;
      for (let k = i; k < Math.min(loss.length, i + per); k++) { s += loss[k]; n++; }
      const x = px(i + (n - 1) / 2), y = py(s / n);
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    }
    g.stroke();
  }
  const line = (key, colour) => {
    if (!evals.length) return;
    g.strokeStyle = colour;
    g.fillStyle = colour;
    g.lineWidth = 2;
    g.beginPath();
    evals.forEach((e, i) => (i ? g.lineTo(px(e.step), py(e[key])) : g.moveTo(px(e.step), py(e[key]))));
    g.stroke();
    evals.forEach((e) => { g.beginPath(); g.arc(px(e.step), py(e[key]), 2.5, 0, 2 * Math.PI); g.fill(); });
  };
  line('train', '#1d4ed8');
  line('val', '#ea580c');
  // legend
  const items = [['batch loss', 'rgba(37,99,235,.45)', 1], ['train (eval)', '#1d4ed8', 2], [o.valIsTrain ? 'val (= train text)' : 'val (eval)', '#ea580c', 2]];
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  g.textAlign = 'left';
  let lx = ml + pw;
  for (let k = items.length - 1; k >= 0; k--) {
    const [label, colour, lw] = items[k];
    lx -= g.measureText(label).width + 26;
    g.strokeStyle = colour; g.lineWidth = lw;
    g.beginPath(); g.moveTo(lx, 10); g.lineTo(lx + 16, 10); g.stroke();
    g.fillStyle = '#344054';
    g.fillText(label, lx + 20, 10);
  }
  const last = evals[evals.length - 1];
  if (last) {
    g.textAlign = 'left';
    g.fillStyle = '#344054';
    g.fillText(`val ${last.val.toFixed(3)} at ${last.step}`, ml + 4, 10);
  }
}
