/**
 * The browser side of the change feed: one long poll at a time (`GET panel?since=V`), which the
 * server answers as soon as its snapshot changes (or after 20 s): no polling while nothing changes.
 */
import { Signal, ISignal } from '@lumino/signaling';
import { ISnapshot, request, json } from './api';

export class Feed {
  private _snapshot: ISnapshot | null = null;
  private _changed = new Signal<Feed, ISnapshot>(this);
  private _running = false;
  private _disposed = false;

  /** Emitted with every new snapshot. */
  get changed(): ISignal<Feed, ISnapshot> {
    return this._changed;
  }

  /** The latest snapshot (null before the first answer). */
  get snapshot(): ISnapshot | null {
    return this._snapshot;
  }

  /** Start the long-poll loop (once). */
  start(): void {
    if (!this._running) {
      this._running = true;
      void this._loop();
    }
  }

  /** Ask the server to re-read now (refresh), or to switch target. */
  async post(body: { refresh?: boolean; target?: string; start?: boolean }): Promise<void> {
    this._set(await request<ISnapshot>('panel', json('POST', body)));
  }

  dispose(): void {
    this._disposed = true;
  }

  private _set(snapshot: ISnapshot): void {
    if (!this._snapshot || snapshot.version !== this._snapshot.version || snapshot.target !== this._snapshot.target) {
      this._snapshot = snapshot;
      this._changed.emit(snapshot);
    }
  }

  private async _loop(): Promise<void> {
    let pause = 1000;
    while (!this._disposed) {
      const since = this._snapshot ? `?since=${this._snapshot.version}` : '';
      try {
        this._set(await request<ISnapshot>(`panel${since}`));
        pause = 1000;
      } catch {
        await new Promise(resolve => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 30000);
      }
    }
  }
}
