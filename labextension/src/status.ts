/**
 * Drawing status without a kernel: traffic bars, tables, and one renderer per status `kind`
 * (the `application/vnd.jupyter-mlep.status+json` payloads of jupyter_mlep's results and widgets).
 * A kind without its own renderer is drawn as a table of its fields.
 */

/** The MIME type of jupyter_mlep's status output. */
export const STATUS_MIME = 'application/vnd.jupyter-mlep.status+json';

type Payload = { [key: string]: any };

/** An element with a class and text. */
export function el(tag: string, className = '', text = ''): HTMLElement {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

/** The state as a coloured badge (`Succeeded`, `Failed`, `Running`…). */
export function badge(state: string): HTMLElement {
  const node = el('span', `mlep-badge mlep-state-${(state || 'unknown').toLowerCase().replace(/[^a-z]+/g, '-')}`, state || '—');
  node.title = state;
  return node;
}

/** A deployment's live share (solid) and mirror share (striped), labelled. */
export function bar(label: string, live: number, mirror = 0): HTMLElement {
  const row = el('div', 'mlep-bar-row');
  row.dataset.deployment = label;
  row.appendChild(el('span', 'mlep-bar-label', label));
  const track = el('span', 'mlep-bar');
  const fill = el('span', 'mlep-bar-live');
  fill.style.width = `${Math.max(0, Math.min(100, live))}%`;
  track.appendChild(fill);
  if (mirror) {
    const shadow = el('span', 'mlep-bar-mirror');
    shadow.style.width = `${Math.max(0, Math.min(100, mirror))}%`;
    track.appendChild(shadow);
  }
  row.appendChild(track);
  row.appendChild(el('span', 'mlep-bar-value', mirror ? `${live}% (+${mirror}% mirror)` : `${live}%`));
  return row;
}

/** Bars of a split by name (and its mirror split). */
export function splitBars(traffic: Payload | null, mirror: Payload | null = null): HTMLElement {
  const box = el('div', 'mlep-bars');
  const names = Array.from(new Set([...Object.keys(traffic || {}), ...Object.keys(mirror || {})])).sort();
  for (const name of names) {
    box.appendChild(bar(name, Number((traffic || {})[name] || 0), Number((mirror || {})[name] || 0)));
  }
  if (!names.length) {
    box.appendChild(el('div', 'mlep-muted', 'No deployment takes traffic.'));
  }
  return box;
}

/** A table of `rows` under `head` (cells as text). */
export function table(head: string[], rows: unknown[][]): HTMLElement {
  const node = el('table', 'mlep-table');
  const top = node.appendChild(el('thead')).appendChild(el('tr'));
  head.forEach(h => top.appendChild(el('th', '', h)));
  const body = node.appendChild(el('tbody'));
  for (const row of rows) {
    const tr = body.appendChild(el('tr'));
    row.forEach(cell => tr.appendChild(el('td', '', cell === null || cell === undefined ? '' : String(cell))));
  }
  return node;
}

function seconds(value: unknown): string {
  return typeof value === 'number' ? `${value.toFixed(1)} s` : '';
}

function title(text: string, state?: string): HTMLElement {
  const node = el('div', 'mlep-status-title');
  node.appendChild(el('b', '', text));
  if (state !== undefined) {
    node.appendChild(badge(state));
  }
  return node;
}

function deployment(p: Payload, root: HTMLElement): void {
  root.appendChild(title(`Deployment ${p.endpoint}/${p.deployment}`, p.state));
  const phases = Object.entries(p.phases || {}).map(([name, phase]: [string, any]) => [
    name,
    phase.state,
    phase.detail,
    seconds(phase.elapsed)
  ]);
  const phaseTable = table(['phase', 'state', 'detail', 'time'], phases);
  phaseTable.classList.add('mlep-phases');
  root.appendChild(phaseTable);
  if (typeof p.traffic === 'number') {
    root.appendChild(bar(p.deployment, p.traffic));
  }
  if (p.error) {
    root.appendChild(el('div', 'mlep-error', p.error));
  }
  if (p.log_tail) {
    root.appendChild(el('pre', 'mlep-log-tail', p.log_tail));
  }
}

function traffic(p: Payload, root: HTMLElement): void {
  root.appendChild(title(`Traffic of ${p.endpoint}`));
  root.appendChild(splitBars(p.traffic, p.mirror_traffic));
}

function endpoint(p: Payload, root: HTMLElement): void {
  root.appendChild(title(`Endpoint ${p.name}`, p.provisioning_state));
  root.appendChild(splitBars(p.traffic, p.mirror_traffic));
  const rows = (p.deployments || []).map((d: Payload) => [d.name, d.provisioning_state, d.instance_type, d.instance_count]);
  root.appendChild(table(['deployment', 'state', 'instance type', 'instances'], rows));
}

function endpoints(p: Payload, root: HTMLElement): void {
  const list: Payload[] = p.endpoints || [];
  root.appendChild(title(`${list.length} online endpoint(s)${p.target ? ` (${p.target})` : ''}`));
  for (const item of list) {
    root.appendChild(title(item.name, item.provisioning_state));
    root.appendChild(splitBars(item.traffic, item.mirror_traffic));
  }
}

function deploy(p: Payload, root: HTMLElement): void {
  const d = p.deployment || {};
  root.appendChild(title(`Deployed ${p.endpoint}/${d.name}`, d.provisioning_state));
  root.appendChild(splitBars(p.traffic));
  (p.warnings || []).forEach((w: string) => root.appendChild(el('div', 'mlep-warning', w)));
}

function rollout(p: Payload, root: HTMLElement): void {
  root.appendChild(title(`Rollout of ${p.deployment} on ${p.endpoint}`, p.outcome));
  const rows = (p.steps || []).map((s: Payload) => [
    s.label,
    s.state,
    Object.entries(s.mirror ? s.mirror_traffic : s.traffic)
      .map(([n, v]) => `${n}=${v}%`)
      .join(', '),
    (s.gates || []).map((g: Payload) => `${g.gate ?? ''} ${g.passed === false ? '✗' : g.passed ? '✓' : ''}`.trim()).join('; '),
    s.reason || ''
  ]);
  const steps = table(['step', 'state', 'traffic', 'gates', 'reason'], rows);
  steps.classList.add('mlep-steps');
  root.appendChild(steps);
  root.appendChild(splitBars(p.traffic, p.mirror_traffic));
  if (p.reason) {
    root.appendChild(el('div', p.succeeded ? 'mlep-muted' : 'mlep-error', p.reason));
  }
}

/** A line of values as a small inline SVG. */
function sparkline(values: number[]): SVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'mlep-spark');
  svg.setAttribute('viewBox', '0 0 100 20');
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const points = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * 100},${18 - ((v - min) / span) * 16}`);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points.join(' '));
  svg.appendChild(line);
  return svg;
}

function metrics(series: Payload, root: HTMLElement): void {
  const node = table(['metric', 'last', 'min', 'max', 'points', ''], []);
  node.classList.add('mlep-metrics');
  const body = node.querySelector('tbody')!;
  for (const [key, points] of Object.entries(series || {})) {
    const values = (points as Payload[]).map(p => Number(p.value));
    const tr = body.appendChild(el('tr'));
    [key, values[values.length - 1], Math.min(...values), Math.max(...values), values.length].forEach(v =>
      tr.appendChild(el('td', '', typeof v === 'number' ? Number(v.toPrecision(6)).toString() : String(v)))
    );
    tr.appendChild(el('td')).appendChild(sparkline(values));
  }
  root.appendChild(node);
}

function job(p: Payload, root: HTMLElement): void {
  root.appendChild(title(`Job ${p.name}`, p.status));
  const rows = [
    ['type', p.type],
    ['experiment', p.experiment],
    ['compute', p.compute],
    ['duration', seconds(p.duration)]
  ].filter(r => r[1]);
  root.appendChild(table(['', ''], rows));
  if (p.metrics && Object.keys(p.metrics).length) {
    metrics(p.metrics, root);
  }
  if (p.error) {
    root.appendChild(el('div', 'mlep-error', p.error));
  }
}

function jobMetrics(p: Payload, root: HTMLElement): void {
  root.appendChild(title(`Metrics of ${p.name}`));
  metrics(p.metrics, root);
}

function jobs(p: Payload, root: HTMLElement): void {
  const list: Payload[] = p.jobs || [];
  root.appendChild(title(`${list.length} job(s)`));
  root.appendChild(table(['name', 'status', 'type', 'duration'], list.map(j => [j.name, j.status, j.type, seconds(j.duration)])));
}

function sweep(p: Payload, root: HTMLElement): void {
  root.appendChild(title(`Sweep ${p.name}: ${p.metric} (${p.goal})`, p.status));
  const rows = (p.trials || []).map((t: Payload) => [
    t.name + (t.name === p.best ? ' ★' : ''),
    t.status,
    Object.entries(t.parameters || {})
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
    t.best,
    t.reason || ''
  ]);
  root.appendChild(table(['trial', 'status', 'parameters', 'best', 'reason'], rows));
  if (p.best) {
    root.appendChild(el('div', 'mlep-muted', `Best trial: ${p.best} (${p.score})`));
  }
}

function invoke(p: Payload, root: HTMLElement): void {
  root.appendChild(title(`${p.status}${p.deployment ? ` from ${p.deployment}` : ''} in ${Math.round((p.elapsed || 0) * 1000)} ms`));
  root.appendChild(el('pre', '', typeof p.body === 'string' ? p.body : JSON.stringify(p.body, null, 1)));
}

function fields(p: Payload, root: HTMLElement): void {
  root.appendChild(title(String(p.kind || 'status')));
  const rows = Object.entries(p)
    .filter(([key]) => key !== 'kind')
    .map(([key, value]) => [key, typeof value === 'object' && value !== null ? JSON.stringify(value) : value]);
  root.appendChild(table(['field', 'value'], rows));
}

/** One renderer per status kind (a new kind: one entry). */
export const RENDERERS: { [kind: string]: (payload: Payload, root: HTMLElement) => void } = {
  deployment,
  deploy,
  traffic,
  endpoint,
  endpoints,
  rollout,
  job,
  jobs,
  'job-metrics': jobMetrics,
  metrics: jobMetrics,
  sweep,
  invoke
};

/** The rich status of one payload. */
export function renderStatus(payload: Payload): HTMLElement {
  const root = el('div', 'mlep-status');
  root.dataset.kind = String(payload.kind || '');
  (RENDERERS[payload.kind] || fields)(payload, root);
  return root;
}
