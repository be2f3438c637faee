/**
 * The panel's main-area tabs: a live log, the invoke editor and the traffic editor. Every rule
 * (traffic splits, validation) is applied by the server, through the same operations the magics use.
 */
import { Widget } from '@lumino/widgets';
import { ApiError, follow, IItem, json, request } from './api';
import { el, splitBars } from './status';

/** A deployment's or job's log, followed as server-sent events until the tab closes. */
export class LogsView extends Widget {
  private _abort = new AbortController();

  constructor(item: IItem) {
    super();
    this.addClass('mlep-logs');
    const pre = el('pre', 'mlep-log');
    const state = el('div', 'mlep-log-state', `Following the log of ${item.parent ? `${item.parent}/` : ''}${item.name}…`);
    this.node.append(state, pre);
    const query = item.parent ? `?parent=${encodeURIComponent(item.parent)}` : '';
    const path = `logs/${encodeURIComponent(item.kind)}/${encodeURIComponent(item.name)}${query}`;
    follow(
      path,
      this._abort.signal,
      line => {
        const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.append(line + '\n');
        if (stick) {
          pre.scrollTop = pre.scrollHeight;
        }
      },
      message => (state.textContent = message)
    ).catch(error => {
      if (!this._abort.signal.aborted) {
        state.textContent = `${error.message} ${error.hint || ''}`;
      }
    });
  }

  dispose(): void {
    this._abort.abort();
    super.dispose();
  }
}

function problemText(error: any): string {
  return error instanceof ApiError ? `${error.message} ${error.hint}`.trim() : String(error);
}

/** A JSON payload editor prefilled from the endpoint's swagger example; shows the answer and who answered. */
export class InvokeView extends Widget {
  constructor(item: IItem) {
    super();
    this.addClass('mlep-invoke');
    const editor = document.createElement('textarea');
    editor.className = 'mlep-payload';
    editor.spellcheck = false;
    editor.value = '{\n  "data": []\n}';
    const target = document.createElement('select');
    target.className = 'mlep-invoke-deployment';
    target.appendChild(new Option('by traffic', ''));
    item.children.forEach(child => target.appendChild(new Option(child.name, child.name)));
    const send = el('button', 'jp-Button mlep-send', 'Send');
    const status = el('div', 'mlep-invoke-status');
    const answer = el('pre', 'mlep-answer');
    const row = el('div', 'mlep-row');
    row.append(el('span', '', 'Deployment: '), target, send);
    this.node.append(el('div', 'mlep-muted', `POST to the scoring URI of ${item.name}`), editor, row, status, answer);
    request<{ example: unknown }>(`endpoints/${encodeURIComponent(item.name)}/invoke`)
      .then(found => {
        if (found.example !== null && found.example !== undefined) {
          editor.value = JSON.stringify(found.example, null, 2);
          status.textContent = 'Payload prefilled from the endpoint’s OpenAPI example.';
        }
      })
      .catch(() => undefined);
    send.onclick = async () => {
      let payload: unknown;
      try {
        payload = JSON.parse(editor.value);
      } catch (error) {
        status.textContent = `The payload is not valid JSON (${error}). Fix it and send again.`;
        return;
      }
      status.textContent = 'Sending…';
      answer.textContent = '';
      try {
        const result = await request<any>(
          `endpoints/${encodeURIComponent(item.name)}/invoke`,
          json('POST', { payload, deployment: target.value || null })
        );
        status.textContent = `${result.status} from ${result.deployment || 'the endpoint'} in ${Math.round(result.elapsed * 1000)} ms`;
        status.dataset.deployment = result.deployment || '';
        answer.textContent = typeof result.body === 'string' ? result.body : JSON.stringify(result.body, null, 2);
      } catch (error) {
        status.textContent = problemText(error);
      }
    };
  }
}

interface ISplit {
  traffic: { [name: string]: number };
  mirror_traffic: { [name: string]: number };
  problem?: string | null;
}

/**
 * Sliders that keep the live split at 100% (the server's splitter moves the others, a lock keeps
 * a deployment where it is), a mirror share on one deployment, and Apply: nothing is sent before
 * Apply, which waits until the endpoint reports the new split.
 */
export class TrafficView extends Widget {
  private _split: ISplit;
  private _locked = new Set<string>();
  private _rows = el('div', 'mlep-traffic-rows');
  private _status = el('div', 'mlep-traffic-status');
  private _problem = el('div', 'mlep-error');
  private _apply = el('button', 'jp-Button mlep-apply', 'Apply') as HTMLButtonElement;
  private _mirrorTo = document.createElement('select');
  private _mirror = document.createElement('input');

  constructor(private _item: IItem) {
    super();
    this.addClass('mlep-traffic-editor');
    const names = _item.children.map(c => c.name);
    this._split = {
      traffic: Object.fromEntries(_item.children.map(c => [c.name, c.bars[0]?.live || 0])),
      mirror_traffic: Object.fromEntries(_item.children.filter(c => c.bars[0]?.mirror).map(c => [c.name, c.bars[0].mirror]))
    };
    this._mirrorTo.className = 'mlep-mirror-to';
    this._mirrorTo.appendChild(new Option('no mirror', ''));
    names.forEach(n => this._mirrorTo.appendChild(new Option(n, n, false, n in this._split.mirror_traffic)));
    Object.assign(this._mirror, { type: 'number', min: '0', max: '50', className: 'mlep-mirror' });
    this._mirror.value = String(Object.values(this._split.mirror_traffic)[0] || 0);
    const mirrorRow = el('div', 'mlep-row');
    mirrorRow.append(el('span', '', 'Mirror: '), this._mirrorTo, this._mirror, el('span', '', '%'));
    this._mirrorTo.onchange = this._mirror.onchange = () => this._move();
    this._apply.onclick = () => void this._applySplit();
    this._status.textContent = `Traffic: ${this._text(this._split.traffic)}`;
    this.node.append(el('div', 'mlep-status-title', `Traffic of ${_item.name}`), this._rows, mirrorRow, this._problem, this._apply, this._status);
    this._draw();
  }

  private _text(split: { [name: string]: number }): string {
    return Object.keys(split).sort().map(n => `${n}=${split[n]}%`).join(', ') || 'none';
  }

  private _draw(): void {
    const rows = Object.keys(this._split.traffic).sort().map(name => {
      const row = el('div', `mlep-traffic-row mlep-slider-${name}`);
      row.dataset.deployment = name;
      const slider = Object.assign(document.createElement('input'), { type: 'range', min: '0', max: '100', step: '1' });
      const number = Object.assign(document.createElement('input'), { type: 'number', min: '0', max: '100', className: 'mlep-percent' });
      slider.value = number.value = String(this._split.traffic[name]);
      slider.onchange = () => this._move(name, Number(slider.value));
      slider.oninput = () => (number.value = slider.value);
      number.onchange = () => this._move(name, Number(number.value));
      const lock = Object.assign(document.createElement('input'), { type: 'checkbox', checked: this._locked.has(name), title: 'Lock' });
      lock.onchange = () => (lock.checked ? this._locked.add(name) : this._locked.delete(name));
      row.append(el('span', 'mlep-bar-label', name), slider, number, el('span', '', '%'), lock, el('span', 'mlep-muted', 'lock'));
      return row;
    });
    this._rows.replaceChildren(...rows, splitBars(this._split.traffic, this._split.mirror_traffic));
  }

  private async _move(deployment?: string, percent?: number): Promise<void> {
    const mirrorTo = this._mirrorTo.value;
    const body = {
      traffic: this._split.traffic,
      mirror_traffic: mirrorTo ? { [mirrorTo]: Number(this._mirror.value) || 0 } : {},
      deployment,
      percent,
      locked: Array.from(this._locked)
    };
    try {
      this._split = await request<ISplit>(`endpoints/${encodeURIComponent(this._item.name)}/traffic`, json('POST', body));
      this._problem.textContent = this._split.problem || '';
      this._apply.disabled = !!this._split.problem;
    } catch (error) {
      this._problem.textContent = problemText(error);
    }
    this._draw();
  }

  private async _applySplit(): Promise<void> {
    this._apply.disabled = true;
    this._status.textContent = `Applying ${this._text(this._split.traffic)}…`;
    try {
      const result = await request<ISplit>(
        `endpoints/${encodeURIComponent(this._item.name)}/traffic`,
        json('PUT', { traffic: this._split.traffic, mirror_traffic: this._split.mirror_traffic })
      );
      this._status.textContent = `Traffic: ${this._text(result.traffic)}`;
    } catch (error) {
      this._status.textContent = problemText(error);
    } finally {
      this._apply.disabled = false;
    }
  }
}
