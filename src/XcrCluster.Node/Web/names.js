// VM, SR and job names by uuid, read once from the pools' inventories (and again on demand): progress samples carry
// uuids, and names when the node sends them (vmName, srName), which win.
import { get } from './api.js';

const vms = new Map();
const srs = new Map();
const jobs = new Map();
let loading = null;

export function load(force = false) {
  if (loading && !force) return loading;
  loading = Promise.all([
    get('/api/vms').then((rows) => rows.forEach((v) => vms.set(v.id, v.name))).catch(() => {}),
    get('/api/srs').then((rows) => rows.forEach((s) => srs.set(s.id, `${s.name} (${s.pool})`))).catch(() => {}),
    get('/api/jobs').then((rows) => rows.forEach((j) => jobs.set(j.id, j.name))).catch(() => {}),
  ]);
  return loading;
}

export const vmName = (id, given) => given || vms.get(id) || null;
export const srName = (id, given) => given || srs.get(id) || null;
export const jobName = (id) => jobs.get(id) || null;
