/**
 * The MIME renderer of `application/vnd.jupyter-mlep.status+json`: saved and papermill-executed
 * notebooks show deployment phases, traffic bars, rollout steps and job metrics without a kernel.
 * Its rank sits before HTML (the text/html fallback every bundle carries for other front ends)
 * and after live widget views.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { renderStatus, STATUS_MIME } from './status';

/** Draws one status payload. */
export class StatusRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private _options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('mlep-status-output');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const payload = model.data[this._options.mimeType] as any;
    this.node.replaceChildren(renderStatus(payload || {}));
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [STATUS_MIME],
  defaultRank: 20,
  createRenderer: options => new StatusRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'jupyter-mlep:status-renderer',
  description: 'Renders jupyter_mlep status outputs (deployments, traffic, rollouts, jobs).',
  rendererFactory,
  rank: 20,
  dataType: 'json'
};

export default extension;
