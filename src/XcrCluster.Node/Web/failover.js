// Failover commands, as `xcr failover start|test|planned` and `xcr failback` take them, with the CLI's checks and its one
// confirmation: a forced start (the replica itself leaves its chain) needs "yes" ticked, as --force needs --yes. Each
// answer is shown as the CLI prints it: one line per VM and the record to open.
import { post } from './api.js';
import { el } from './dom.js';

export async function render(main) {
  main.replaceChildren(el('h2', {}, 'Failover'),
    form('start', 'Start replicas (xcr failover start)', [target(), mode(), text('restorePoint', 'restore point (default: newest)'),
      text('sr', 'target SR (default: the newest point\'s)'), check('yes', 'yes: start the replica itself (confirms --force)'),
      check('dryRun', 'dry run')], startBody, '/api/failover'),
    form('test', 'Test failover (xcr failover test)', [target(), text('network', 'isolated network (default: no VIF)'),
      text('timeout', 'guest timeout in minutes', '10')], testBody, '/api/failover/test'),
    form('planned', 'Planned failover (xcr failover planned)', [target(), check('dryRun', 'dry run')], plannedBody,
      '/api/failover/planned'),
    form('failback', 'Failback (xcr failback)', [text('vm', 'VM uuid'), check('resume', 'resume: re-enable the original direction')],
      (f) => (f.vm ? { vm: f.vm, resume: f.resume } : fail('give the VM uuid')), '/api/failback'));
}

function target() {
  return [text('vm', 'VM uuid'), text('job', 'or every VM of job')];
}

// One of a VM or a job, as the CLI requires.
function oneTarget(f) {
  if (!f.vm === !f.job) fail('give one of a VM uuid or a job id');
  return { vm: f.vm || null, job: f.job || null };
}

function startBody(f) {
  const body = { ...oneTarget(f), mode: f.mode, restorePoint: f.restorePoint || null, sr: f.sr || null, yes: f.yes, dryRun: f.dryRun };
  if (f.mode === 'force' && !f.yes && !f.dryRun) {
    fail('a forced start takes the replica out of its chain (the next run makes a new replica): tick "yes" to confirm');
  }
  return body;
}

function testBody(f) {
  const minutes = Number(f.timeout || '10');
  if (!(minutes > 0)) fail('timeout: a number of minutes');
  return { ...oneTarget(f), network: f.network || null, timeoutSeconds: Math.ceil(minutes * 60) };
}

const plannedBody = (f) => ({ ...oneTarget(f), dryRun: f.dryRun });

function fail(message) {
  throw new Error(message);
}

function form(id, title, fields, body, path) {
  const out = el('pre', { class: 'result' });
  const node = el('form', { id: `failover-${id}` }, el('fieldset', {}, el('legend', {}, title), fields.flat(),
    el('button', { type: 'submit' }, 'Go')), out);
  node.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = Object.fromEntries([...node.elements].filter((x) => x.name)
      .map((x) => [x.name, x.type === 'checkbox' ? x.checked : x.value.trim()]));
    try {
      const request = body(values);
      out.textContent = 'working…';
      out.textContent = lines(await post(path, request)).join('\n');
    } catch (err) {
      out.textContent = err.message;
    }
  });
  return node;
}

function lines(record) {
  const vms = (record.vms || []).map((v) => {
    if (v.details && v.details.plan) return `VM ${v.vm}: ${v.details.plan}`;
    const result = v.result ? ` -> VM ${v.result}${v.details && v.details.name ? ` (${v.details.name})` : ''}` : '';
    const summary = v.details && v.details.summary ? ` (${v.details.summary})` : '';
    return `VM ${v.vm}: ${v.status}${result}${summary}${v.error ? ` — ${v.error}` : ''}`;
  });
  return [...vms, `${record.kind} ${record.id}: ${record.status}`];
}

function text(name, label, value = '') {
  return el('label', {}, `${label} `, el('input', { name, value, size: '38' }));
}

function check(name, label) {
  return el('label', {}, el('input', { type: 'checkbox', name }), ` ${label}`);
}

function mode() {
  return el('label', {}, 'mode ', el('select', { name: 'mode' },
    el('option', { value: 'copy' }, 'copy: a fast clone, the replica stays'),
    el('option', { value: 'force' }, 'force: the replica itself')));
}
