// The cluster: its members (roles, status, reachability), the pool agents each runs, the shards each holds.
import { get } from './api.js';
import { el, table } from './dom.js';

export async function render(main) {
  const [cluster, node, regions] = await Promise.all([get('/api/cluster'), get('/api/node'), get('/api/sharding/regions')]);
  main.replaceChildren(
    el('h2', {}, 'This node'),
    el('p', {}, `${node.address} — roles ${node.roles.join(', ')}; data channel ${node.channel.endpoint}`
      + `${node.channel.tls ? ' (TLS)' : ''}`),
    el('h2', {}, 'Members'),
    table([
      { title: 'Address', cell: (m) => [m.address, m.address === cluster.self ? ' (this node)' : ''] },
      { title: 'Roles', cell: (m) => m.roles.join(', ') },
      { title: 'Status', cell: (m) => el('span', { class: m.reachable && m.status === 'Up' ? 'ok' : 'late' },
        m.reachable ? m.status : `${m.status}, unreachable`) },
      { title: 'HTTP', cell: (m) => m.http || '—' },
      { title: 'Agents', cell: (m) => agents(m.agents) },
      { title: 'Shards', cell: (m) => (m.shards || []).map((s) =>
        el('div', {}, `${s.region}: ${s.shards ?? '?'} shards, ${s.entities ?? '?'} entities`)) },
    ], cluster.members, (m) => ({ class: m.reachable ? 'member' : 'member late' })),
    el('h2', {}, 'Sharding regions'),
    el('ul', {}, regions.map((r) => el('li', {}, r))));
}

function agents(list) {
  if (!list || list.length === 0) return '—';
  return list.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(', ');
}
