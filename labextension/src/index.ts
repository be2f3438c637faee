/**
 * jupyter-mlep for JupyterLab: the "Endpoints" sidebar, its actions (logs, invoke and traffic
 * tabs, keys, delete, insert the equivalent magic as a cell) and the running-sessions entries
 * of the local deployment servers. The status renderer is the package's MIME extension (mime.ts).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Clipboard, Dialog, MainAreaWidget, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { IRunningSessionManagers, IRunningSessions } from '@jupyterlab/running';
import { LabIcon } from '@jupyterlab/ui-components';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { ApiError, IItem, ISnapshot, json, request } from './api';
import { Feed } from './feed';
import { EndpointsPanel, IActions } from './panel';
import { el } from './status';
import { InvokeView, LogsView, TrafficView } from './views';

const ICON = new LabIcon({
  name: 'jupyter-mlep:endpoints',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<circle cx="5" cy="12" r="3"/><circle cx="19" cy="5" r="3"/><circle cx="19" cy="19" r="3"/>' +
    '<path d="M7.6 10.7l8.8-4.6.9 1.8-8.8 4.6zM7.6 13.3l8.8 4.6.9-1.8-8.8-4.6z"/></g></svg>'
});

function fail(error: any): void {
  const message = error instanceof ApiError ? `${error.message}\n${error.hint}` : String(error);
  void showErrorMessage('jupyter-mlep', message);
}

function openTab(app: JupyterFrontEnd, content: Widget, id: string, label: string): void {
  const existing = Array.from(app.shell.widgets('main')).find(w => w.id === id);
  if (existing) {
    app.shell.activateById(id);
    return;
  }
  const tab = new MainAreaWidget({ content });
  tab.id = id;
  tab.title.label = label;
  tab.title.icon = ICON;
  tab.title.closable = true;
  app.shell.add(tab, 'main');
  app.shell.activateById(id);
}

async function showKeys(item: IItem): Promise<void> {
  const keys = await request<{ primary: string; secondary: string }>(`endpoints/${encodeURIComponent(item.name)}/keys`);
  const body = el('div', 'mlep-keys');
  for (const which of ['primary', 'secondary'] as const) {
    const row = body.appendChild(el('div', 'mlep-row'));
    row.append(el('span', 'mlep-bar-label', which), el('code', 'mlep-key', keys[which]));
    const copy = row.appendChild(el('button', `jp-Button mlep-copy-${which}`, 'Copy'));
    copy.onclick = async () => {
      try {
        const found = await request<{ key: string }>(`endpoints/${encodeURIComponent(item.name)}/keys/${which}`, json('POST', {}));
        Clipboard.copyToSystem(found.key);
        copy.textContent = 'Copied';
      } catch (error) {
        fail(error);
      }
    };
  }
  await showDialog({ title: `Keys of ${item.name}`, body: new Widget({ node: body }), buttons: [Dialog.okButton({ label: 'Close' })] });
}

async function remove(item: IItem): Promise<void> {
  const what = item.parent ? `deployment ${item.parent}/${item.name}` : `${item.kind} ${item.name}`;
  const answer = await showDialog({
    title: `Delete ${what}?`,
    body: item.children.length ? `Its ${item.children.length} deployment(s) are deleted with it.` : 'This cannot be undone.',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
  });
  if (answer.button.accept) {
    const query = item.parent ? `?parent=${encodeURIComponent(item.parent)}` : '';
    await request(`resources/${encodeURIComponent(item.kind)}/${encodeURIComponent(item.name)}${query}`, { method: 'DELETE' });
  }
}

function insertCell(app: JupyterFrontEnd, tracker: INotebookTracker | null, item: IItem): void {
  const panel = tracker?.currentWidget;
  if (!panel) {
    void showErrorMessage('jupyter-mlep', 'Open a notebook first: the magic is inserted below its active cell.');
    return;
  }
  NotebookActions.insertBelow(panel.content);
  const cell = panel.content.activeCell;
  cell?.model.sharedModel.setSource(item.magic);
  app.shell.activateById(panel.id);
}

function actions(app: JupyterFrontEnd, tracker: INotebookTracker | null): IActions {
  const guard = (work: (item: IItem) => Promise<void>) => (item: IItem) => void work(item).catch(fail);
  const key = (item: IItem) => `${item.kind}-${item.parent || ''}-${item.name}`.replace(/[^\w-]/g, '_');
  return {
    logs: item => openTab(app, new LogsView(item), `mlep-logs-${key(item)}`, `Logs: ${item.name}`),
    invoke: item => openTab(app, new InvokeView(item), `mlep-invoke-${key(item)}`, `Invoke: ${item.name}`),
    traffic: item => openTab(app, new TrafficView(item), `mlep-traffic-${key(item)}`, `Traffic: ${item.name}`),
    keys: guard(showKeys),
    delete: guard(remove),
    insert: item => insertCell(app, tracker, item)
  };
}

/** The running-sessions section of the local workspace's deployment servers. */
class ServersManager implements IRunningSessions.IManager {
  readonly name = 'Local deployments';
  readonly shutdownAllLabel = 'Shut Down All';
  readonly shutdownAllConfirmationText = 'Delete every local deployment? Deployments that take live traffic are refused.';
  private _changed = new Signal<this, void>(this);

  constructor(
    private _feed: Feed,
    private _open: (item: IItem) => void
  ) {
    _feed.changed.connect(() => this._changed.emit(), this);
  }

  get runningChanged(): Signal<this, void> {
    return this._changed;
  }

  private _servers(): ISnapshot['servers'] {
    return this._feed.snapshot?.servers || [];
  }

  running(): IRunningSessions.IRunningItem[] {
    return this._servers().map(server => {
      const item: IItem = {
        kind: 'online-deployment', name: server.deployment, parent: server.endpoint, state: server.state,
        details: [], bars: [], children: [], actions: [], magic: ''
      };
      return {
        icon: () => ICON,
        label: () => `${server.endpoint}/${server.deployment}`,
        labelTitle: () => `Deployment ${server.deployment} of ${server.endpoint} (${server.state})`,
        className: 'mlep-running-server',
        open: () => this._open(item),
        shutdown: () => void this._shutdown(server).catch(fail)
      };
    });
  }

  private async _shutdown(server: { endpoint: string; deployment: string }): Promise<void> {
    await request(`resources/online-deployment/${encodeURIComponent(server.deployment)}?parent=${encodeURIComponent(server.endpoint)}`, {
      method: 'DELETE'
    });
  }

  shutdownAll(): void {
    void Promise.all(this._servers().map(s => this._shutdown(s))).catch(fail);
  }

  refreshRunning(): void {
    void this._feed.post({ refresh: true }).catch(fail);
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlep:panel',
  description: 'The Endpoints panel: online endpoints, deployments, jobs and sweeps, with actions.',
  autoStart: true,
  optional: [ILayoutRestorer, INotebookTracker, IRunningSessionManagers],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    tracker: INotebookTracker | null,
    running: IRunningSessionManagers | null
  ) => {
    const feed = new Feed();
    const todo = actions(app, tracker);
    const panel = new EndpointsPanel(feed, todo);
    panel.title.icon = ICON;
    app.shell.add(panel, 'left', { rank: 700 });
    restorer?.add(panel, panel.id);
    running?.add(new ServersManager(feed, todo.logs));
    app.commands.addCommand('jupyter-mlep:refresh', {
      label: 'Refresh the Endpoints panel',
      execute: () => feed.post({ refresh: true })
    });
  }
};

export default plugin;
