/**
 * The left-sidebar "Endpoints" panel: the current target's resources, section by section as the
 * server's kinds registry lists them, drawn without knowing the kinds; each item's actions are
 * the names the server gives (`logs`, `invoke`, `traffic`, `keys`, `delete`, `insert`).
 */
import { Widget } from '@lumino/widgets';
import { ISnapshot, IItem } from './api';
import { Feed } from './feed';
import { badge, bar, el } from './status';

/** What the panel's buttons do (given by the plugin). */
export interface IActions {
  [action: string]: (item: IItem) => void;
}

const LABELS: { [action: string]: string } = {
  logs: 'Logs',
  invoke: 'Invoke',
  traffic: 'Traffic',
  keys: 'Keys',
  delete: 'Delete',
  insert: 'Insert as cell'
};

export class EndpointsPanel extends Widget {
  private _collapsed = new Set<string>();

  constructor(
    private _feed: Feed,
    private _actions: IActions
  ) {
    super();
    this.id = 'jupyter-mlep-endpoints';
    this.addClass('mlep-panel');
    this.title.caption = 'Endpoints';
    _feed.changed.connect((_, snapshot) => this._draw(snapshot), this);
    this._draw(_feed.snapshot);
    _feed.start();
  }

  private _toolbar(snapshot: ISnapshot | null): HTMLElement {
    const bar = el('div', 'mlep-panel-toolbar');
    bar.appendChild(el('span', 'mlep-panel-title', 'Endpoints'));
    const select = document.createElement('select');
    select.className = 'mlep-target';
    select.title = 'Target';
    for (const name of snapshot?.targets || []) {
      const option = document.createElement('option');
      option.value = option.textContent = name;
      option.selected = name === snapshot?.target;
      select.appendChild(option);
    }
    select.onchange = () => this._run(() => this._feed.post({ target: select.value }));
    bar.appendChild(select);
    const refresh = el('button', 'mlep-refresh jp-Button', '⟳');
    refresh.title = 'Refresh';
    refresh.onclick = () => this._run(() => this._feed.post({ refresh: true }));
    bar.appendChild(refresh);
    return bar;
  }

  private _run(work: () => Promise<void>): void {
    work().catch(error => this._problem(error.message, error.hint));
  }

  private _problem(message: string, hint: string): void {
    const box = this.node.querySelector('.mlep-panel-error') || this.node.insertBefore(el('div', 'mlep-panel-error'), this.node.children[1] || null);
    box.replaceChildren(el('div', '', message), el('div', 'mlep-hint', hint));
  }

  private _draw(snapshot: ISnapshot | null): void {
    const nodes: HTMLElement[] = [this._toolbar(snapshot)];
    if (snapshot?.error) {
      const box = el('div', 'mlep-panel-error');
      box.appendChild(el('div', '', snapshot.error.message));
      box.appendChild(el('div', 'mlep-hint', snapshot.error.hint));
      if (snapshot.can_start) {
        const start = el('button', 'jp-Button mlep-start', 'Start the local workspace');
        start.onclick = () => this._run(() => this._feed.post({ start: true }));
        box.appendChild(start);
      }
      nodes.push(box);
    }
    if (!snapshot || snapshot.loading) {
      nodes.push(el('div', 'mlep-muted', 'Loading…'));
    }
    for (const section of snapshot?.sections || []) {
      const box = el('div', 'mlep-section');
      box.dataset.kind = section.kind;
      box.appendChild(el('div', 'mlep-section-title', `${section.title} (${section.items.length})`));
      if (!section.items.length && snapshot && !snapshot.loading) {
        box.appendChild(el('div', 'mlep-muted', 'None.'));
      }
      section.items.forEach(item => box.appendChild(this._item(item)));
      nodes.push(box);
    }
    this.node.replaceChildren(...nodes);
  }

  private _item(item: IItem): HTMLElement {
    const key = `${item.kind}/${item.parent || ''}/${item.name}`;
    const node = el('div', 'mlep-item');
    node.dataset.kind = item.kind;
    node.dataset.name = item.name;
    const head = node.appendChild(el('div', 'mlep-item-head'));
    if (item.children.length) {
      const caret = head.appendChild(el('span', 'mlep-caret', this._collapsed.has(key) ? '▸' : '▾'));
      caret.onclick = () => {
        this._collapsed.has(key) ? this._collapsed.delete(key) : this._collapsed.add(key);
        this._draw(this._feed.snapshot);
      };
    }
    head.appendChild(el('span', 'mlep-item-name', item.name));
    head.appendChild(badge(item.state));
    const details = item.details.filter(([, value]) => value);
    if (details.length) {
      node.appendChild(el('div', 'mlep-item-details', details.map(([label, value]) => `${label}: ${value}`).join(' · ')));
    }
    item.bars.forEach(b => node.appendChild(bar(b.label, b.live, b.mirror)));
    const actions = node.appendChild(el('div', 'mlep-item-actions'));
    for (const action of item.actions) {
      const button = el('button', `jp-Button mlep-action mlep-action-${action}`, LABELS[action] || action);
      button.onclick = () => this._actions[action]?.(item);
      actions.appendChild(button);
    }
    if (item.children.length && !this._collapsed.has(key)) {
      const children = node.appendChild(el('div', 'mlep-children'));
      item.children.forEach(child => children.appendChild(this._item(child)));
    }
    return node;
  }
}
