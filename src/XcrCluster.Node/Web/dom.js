// Small DOM helpers: elements built with properties and children (text is always text, never parsed as HTML).
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function table(columns, rows, rowProps = () => ({})) {
  return el('table', {},
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c.title)))),
    el('tbody', {}, rows.length === 0
      ? el('tr', {}, el('td', { colspan: String(columns.length), class: 'muted' }, 'none'))
      : rows.map((r) => el('tr', rowProps(r), columns.map((c) => el('td', {}, c.cell(r)))))));
}

export const uuid = (id) => el('span', { class: 'uuid', title: id }, id ? id.slice(0, 8) : '—');

// A name when known, else the (short) uuid.
export const named = (name, id) => (name ? el('span', { title: id }, name) : uuid(id));

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

export function status(text) {
  document.getElementById('status').textContent = text;
}
