/** A refused API call: the HTTP status and the server's `{ error: { code, message } }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the app's API (same origin: the identity cookie goes along). */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`/api${path}`, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!response.ok) throw new ApiError(response.status, body.error?.code ?? 'http_error', body.error?.message ?? `HTTP ${response.status}`);
  return body as T;
}

/** A job as the API returns it (the fields the page reads). */
export interface JobView {
  id: string;
  status: string;
  sessionId?: string;
  metadata: Record<string, unknown>;
  result?: unknown;
}

/** An action as the API returns it; pending ones carry the resume token for their scope. */
export interface ActionView {
  id: string;
  jobId: string;
  title: string;
  description?: string;
  status: string;
  payload?: unknown;
  resumeToken?: string;
}

/** One chat message as the server's chat route takes it. */
export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

export const chatApi = {
  identify: () => api<{ principalId: string }>('/identity', { method: 'POST' }),
  send: (sessionId: string, message: string, history: HistoryMessage[]) =>
    api<{ job: JobView }>(`/sessions/${encodeURIComponent(sessionId)}/messages`, { method: 'POST', body: { message, history } }),
  job: (jobId: string) => api<{ job: JobView }>(`/jobs/${encodeURIComponent(jobId)}`),
  actions: (jobId: string) => api<{ actions: ActionView[] }>(`/actions?jobId=${encodeURIComponent(jobId)}`),
  resolve: (resumeToken: string, approved: boolean, comment: string) =>
    api<{ action: ActionView }>('/actions/resolve', {
      method: 'POST',
      body: { resumeToken, resolution: comment ? { approved, comment } : { approved }, ...(comment ? { comment } : {}) },
    }),
};
