// Plots as inline SVG built here (no chart library): a line over time (a VM's lag, with its RPO target dashed) and
// bars (bytes per run, run durations). Attributes only, no inline style: the page's CSP forbids it.
const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const stamp = (t) => new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

const W = 360, H = 140, PAD = { l: 44, r: 8, t: 8, b: 20 };

function frame(label, yMax, format) {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label });
  root.append(svg('line', { class: 'axis', x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b }));
  root.append(svg('line', { class: 'axis', x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b }));
  root.append(svg('text', { x: PAD.l - 4, y: PAD.t + 8, 'text-anchor': 'end' }, format(yMax)));
  root.append(svg('text', { x: PAD.l - 4, y: H - PAD.b, 'text-anchor': 'end' }, '0'));
  return root;
}

// points: [{ at: ISO, value: number|null }]; options.target: a horizontal line (the RPO), options.format: y labels.
export function line(points, { label, target = null, format = String } = {}) {
  const known = points.filter((p) => p.value !== null && p.value !== undefined);
  const xs = points.map((p) => Date.parse(p.at));
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const yMax = Math.max(1, target ?? 0, ...known.map((p) => p.value)) * 1.1;
  const root = frame(label, yMax, format);
  const x = (t) => PAD.l + ((t - x0) / Math.max(1, x1 - x0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  if (target !== null) {
    root.append(svg('line', { class: 'axis target', x1: PAD.l, x2: W - PAD.r, y1: y(target), y2: y(target) }));
  }
  if (known.length > 0) {
    const d = known.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(Date.parse(p.at)).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
    root.append(svg('path', { class: 'line', d }));
  }
  root.append(svg('text', { x: PAD.l, y: H - 4 }, stamp(x0)));
  root.append(svg('text', { x: W - PAD.r, y: H - 4, 'text-anchor': 'end' }, stamp(x1)));
  return root;
}

// values: [{ label, value }] oldest first.
export function bars(values, { label, format = String } = {}) {
  const yMax = Math.max(1, ...values.map((v) => v.value)) * 1.1;
  const root = frame(label, yMax, format);
  const slot = (W - PAD.l - PAD.r) / Math.max(1, values.length);
  values.forEach((v, i) => {
    const h = (v.value / yMax) * (H - PAD.t - PAD.b);
    const width = Math.max(1, Math.min(40, slot - 2));
    const rect = svg('rect', { class: 'barv', x: PAD.l + i * slot + 1, y: H - PAD.b - h, width, height: h });
    rect.append(svg('title', {}, `${v.label}: ${format(v.value)}`));
    root.append(rect);
  });
  return root;
}
