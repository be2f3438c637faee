/**
 * Requests to the server extension's routes below `/jupyter-mlep/` (token and XSRF headers from
 * Jupyter's ServerConnection), the snapshot types, and the log stream reader.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** An error the server answered: what was wrong and how to fix it. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly hint: string = '',
    readonly status: number = 0
  ) {
    super(message);
  }
}

/** One traffic bar: a deployment's live and mirror share. */
export interface IBar {
  label: string;
  live: number;
  mirror: number;
}

/** One row of the panel, of any kind (the server's kinds registry fills it). */
export interface IItem {
  kind: string;
  name: string;
  parent?: string;
  state: string;
  details: [string, string][];
  bars: IBar[];
  children: IItem[];
  actions: string[];
  magic: string;
}

/** A section of the panel: the items of one kind. */
export interface ISection {
  kind: string;
  title: string;
  items: IItem[];
}

/** A deployment server running on this machine. */
export interface IServer {
  endpoint: string;
  deployment: string;
  state: string;
}

/** What `GET /jupyter-mlep/panel` answers. */
export interface ISnapshot {
  version: number;
  target: string;
  targets: string[];
  sections: ISection[];
  servers: IServer[];
  error: { message: string; hint: string } | null;
  can_start: boolean;
  loading: boolean;
}

function url(path: string): { url: string; settings: ServerConnection.ISettings } {
  const settings = ServerConnection.makeSettings();
  return { url: URLExt.join(settings.baseUrl, 'jupyter-mlep', path), settings };
}

/** Call a route; its JSON answer, or an {@link ApiError} with the server's message and hint. */
export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const where = url(path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(where.url, init, where.settings);
  } catch (error) {
    throw new ApiError(`The Jupyter server does not answer (${error}).`, 'Check that it still runs.');
  }
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!response.ok) {
    throw new ApiError(data?.message || response.statusText, data?.hint || '', response.status);
  }
  return data as T;
}

/** JSON body helper. */
export function json(method: string, body: unknown): RequestInit {
  return { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } };
}

/**
 * Follow a server-sent event stream: `onLine` for each `data:` line, `onFailure` for a `failure`
 * event. Stops when `signal` aborts.
 */
export async function follow(
  path: string,
  signal: AbortSignal,
  onLine: (line: string) => void,
  onFailure: (message: string) => void
): Promise<void> {
  const where = url(path);
  const response = await ServerConnection.makeRequest(where.url, { signal }, where.settings);
  if (!response.ok || !response.body) {
    const data = await response.json().catch(() => ({}));
    throw new ApiError(data.message || response.statusText, data.hint || '', response.status);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const failure = event.startsWith('event: failure');
      const data = event.split('\n').find(line => line.startsWith('data: '));
      if (data) {
        const parsed = JSON.parse(data.slice(6));
        failure ? onFailure(`${parsed.message} ${parsed.hint || ''}`.trim()) : onLine(parsed);
      }
    }
  }
}
