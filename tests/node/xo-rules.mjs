// Xen Orchestra's base selection and target matching, applied as ../shared/spec/xo-cr-semantics.md writes them (§2.4 job
// snapshot discovery, §2.5 steps 1-3 and 5, §2.6 target side check), read through the real npm xen-api client. A test
// fixture: the golden judge of the state our engine leaves on both pools (what Xen Orchestra would pick as the next run's base
// and target VM). Written from the spec's text, not from Xen Orchestra's code. Prints one JSON object on stdout:
//   node xo-rules.mjs <source url with credentials> <target url with credentials> <job id> <vm uuid> <target sr uuid>
// => { bases: { liveVdiUuid: baseSnapshotVdiUuid }, targetVdis: { baseSnapshotVdiUuid: targetVdiUuid }, targetVm: uuid | null,
//      legacy: bool, notes: [...] }
// Not applied: the qcow2 safety gate (only with preferNbd), fullInterval (§2.5 step 6: the caller's setting), the 6.5
// content-key fallback (§2.5 step 4, only when nothing survived).
import { Xapi } from 'xen-api'

const [sourceUrl, targetUrl, jobId, vmUuid, srUuid] = process.argv.slice(2)
const JOB = 'xo:backup:job'
const VM = 'xo:backup:vm'
const DATETIME = 'xo:backup:datetime'
const EXPORTED = 'xo:backup:exported'
const COPY_OF = 'xo:copy_of'
const CONTENT_KEY = 'xo:backup:contentKey'
const notes = []

const connect = async url => {
  const xapi = new Xapi({ url, allowUnauthorized: true, watchEvents: false })
  await xapi.connect()
  return xapi
}

// Every record of the classes the rules read, by ref.
const load = async xapi => {
  const [vms, vbds, vdis, srs] = await Promise.all(['VM', 'VBD', 'VDI', 'SR'].map(c => xapi.getAllRecords(c)))
  const byRef = list => new Map(list.map(r => [r.$ref, r]))
  return { vms: byRef(vms), vbds: byRef(vbds), vdis: byRef(vdis), srs: byRef(srs) }
}

// Non-dom0 VBDs of a VDI: the VMs it is attached to (a VBD of the control domain does not count).
const users = (db, vdi) =>
  vdi.VBDs.map(ref => db.vbds.get(ref)).filter(vbd => vbd && !db.vms.get(vbd.VM)?.is_control_domain)

// §2.4: snapshot VDIs of the live VM's disks stamped by this job for this VM, without xo:copy_of, then _filterValidSnapshotVdis.
const jobSnapshotVdis = (db, vm) => {
  const liveRefs = new Set(vm.VBDs.map(ref => db.vbds.get(ref)).filter(v => v?.type === 'Disk').map(v => v.VDI))
  const candidates = [...db.vdis.values()].filter(vdi => liveRefs.has(vdi.snapshot_of) && vdi.other_config[JOB] === jobId &&
    vdi.other_config[VM] === vm.uuid && vdi.other_config[COPY_OF] === undefined)
  const candidateRefs = new Set(candidates.map(v => v.$ref))
  return candidates.filter(vdi => {
    if (vdi.type === 'cbt_metadata') return true
    const attached = users(db, vdi)
    if (attached.length === 0) return true // orphan: kept (removed later)
    if (attached.length > 1) return false
    const owner = db.vms.get(attached[0].VM)
    if (!owner.is_a_snapshot) return false
    const oc = owner.other_config
    if (oc[DATETIME] !== vdi.other_config[DATETIME] || oc[JOB] !== vdi.other_config[JOB] || oc[VM] !== vdi.other_config[VM]) return false
    // Every other disk of that snapshot must be a candidate too (never half-destroy a snapshot).
    return owner.VBDs.map(ref => db.vbds.get(ref)).filter(v => v?.type === 'Disk').every(v => candidateRefs.has(v.VDI))
  })
}

// Blocks a differencing export of `active` against `base` would carry: the VHD's BAT entries in use (footer 512 B, dynamic
// header at 512: table offset at +16, max table entries at +28).
const changedBlocks = async (xapi, url, active, base) => {
  const authority = new URL(url).host
  const response = await fetch(`http://${authority}/export_raw_vdi/?vdi=${active}&base=${base}&format=vhd` +
    `&session_id=${encodeURIComponent(xapi.sessionId)}`)
  if (!response.ok) throw new Error(`export_raw_vdi answered ${response.status}`)
  const reader = response.body.getReader()
  let buffer = Buffer.alloc(0)
  const need = async n => {
    while (buffer.length < n) {
      const { done, value } = await reader.read()
      if (done) throw new Error('export ended inside the VHD header')
      buffer = Buffer.concat([buffer, Buffer.from(value)])
    }
  }
  try {
    await need(1536)
    const tableOffset = Number(buffer.readBigUInt64BE(512 + 16))
    const entries = buffer.readUInt32BE(512 + 28)
    await need(tableOffset + entries * 4)
    let used = 0
    for (let i = 0; i < entries; i++) if (buffer.readUInt32BE(tableOffset + i * 4) !== 0xffffffff) used++
    return used
  } finally {
    await reader.cancel().catch(() => {})
  }
}

// §2.6 IncrementalXapiWriter.checkBaseVdis: which base each disk keeps on this target, and the target VM to update in place.
const checkTarget = async (target, db, baseToLive, contentKeys) => {
  const sr = [...db.srs.values()].find(s => s.uuid === srUuid)
  if (!sr) throw new Error(`no SR ${srUuid} on the target`)
  const onSr = [...db.vdis.values()].filter(v => v.SR === sr.$ref && v.managed)
  const kept = {}
  const candidates = []
  for (const [baseUuid, liveUuid] of Object.entries(baseToLive)) {
    const key = contentKeys[baseUuid]
    let candidate = key === undefined ? undefined : onSr.find(v => v.is_a_snapshot && v.other_config[CONTENT_KEY] === key &&
      db.vdis.get(v.snapshot_of)?.uuid !== liveUuid)
    candidate ??= onSr.find(v => v.is_a_snapshot && v.other_config[JOB] === jobId && v.other_config[VM] === vmUuid &&
      v.other_config[COPY_OF] === baseUuid)
    if (candidate) candidates.push({ baseUuid, candidate })
  }
  if (candidates.length === 0) {
    // Legacy fallback (G1 replicas): managed non-snapshot VDIs whose xo:copy_of is a base; never a target VM to reuse.
    for (const baseUuid of Object.keys(baseToLive)) {
      const legacy = onSr.find(v => !v.is_a_snapshot && v.other_config[COPY_OF] === baseUuid)
      if (legacy) kept[baseUuid] = legacy.uuid
    }
    return { kept, targetVm: null, legacy: true }
  }
  let canChainToTargetVm = true
  let targetVm = null
  for (const { baseUuid, candidate } of candidates) {
    const active = db.vdis.get(candidate.snapshot_of)
    const attached = active ? users(db, active) : []
    if (attached.length !== 1) {
      canChainToTargetVm = false
      notes.push(`${baseUuid}: the active VDI has ${attached.length} VBDs, not chainable`)
      continue
    }
    const vm = db.vms.get(attached[0].VM)
    if (vm.power_state !== 'Halted' && vm.power_state !== 'Suspended') canChainToTargetVm = false
    if (!canChainToTargetVm) {
      kept[baseUuid] = candidate.uuid
      continue
    }
    const changed = await changedBlocks(target, targetUrl, active.$ref, candidate.$ref)
    if (changed === 0) {
      kept[baseUuid] = active.uuid
      targetVm = vm.uuid
    } else {
      notes.push(`${baseUuid}: ${changed} blocks changed on the replica since its restore point`)
      kept[baseUuid] = candidate.uuid
      canChainToTargetVm = false
    }
  }
  return { kept, targetVm: canChainToTargetVm ? targetVm : null, legacy: false }
}

const source = await connect(sourceUrl)
const target = await connect(targetUrl)
try {
  const sdb = await load(source)
  const vm = [...sdb.vms.values()].find(v => v.uuid === vmUuid && !v.is_a_snapshot)
  if (!vm) throw new Error(`no VM ${vmUuid} on the source`)
  // §2.5 step 1: the newest group of exported job snapshots by datetime.
  const exported = jobSnapshotVdis(sdb, vm).filter(v => v.other_config[EXPORTED] !== undefined && v.other_config[DATETIME] !== undefined)
  const newest = exported.map(v => v.other_config[DATETIME]).sort().at(-1)
  const group = exported.filter(v => v.other_config[DATETIME] === newest)
  // Step 2: snapshot VDI uuid -> live VDI uuid (live disks still on the VM only).
  const live = new Set(vm.VBDs.map(ref => sdb.vbds.get(ref)).filter(v => v?.type === 'Disk').map(v => v.VDI))
  const baseToLive = {}
  const contentKeys = {}
  for (const vdi of group) {
    if (!live.has(vdi.snapshot_of)) continue
    baseToLive[vdi.uuid] = sdb.vdis.get(vdi.snapshot_of).uuid
    if (vdi.other_config[CONTENT_KEY] !== undefined) contentKeys[vdi.uuid] = vdi.other_config[CONTENT_KEY]
  }
  // Step 3 (one writer) and step 5: what the target cannot continue goes full.
  const { kept, targetVm, legacy } = Object.keys(baseToLive).length === 0
    ? { kept: {}, targetVm: null, legacy: false }
    : await checkTarget(target, await load(target), baseToLive, contentKeys)
  const bases = {}
  for (const baseUuid of Object.keys(kept)) bases[baseToLive[baseUuid]] = baseUuid
  console.log(JSON.stringify({ bases, targetVdis: kept, targetVm, legacy, notes }))
} finally {
  await Promise.all([source.disconnect(), target.disconnect()])
}
