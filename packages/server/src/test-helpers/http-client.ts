export interface CallOptions {
  scope?: string | null;
  principal?: string;
  body?: unknown;
  /** Sent as is (overrides `body`). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  // Tests read what they check.
  json: any;
  headers: Headers;
}

/** A small JSON client for the API, authenticated with the dev headers (`scope: null` sends none). */
export function apiClient(baseUrl: string) {
  return async function call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.scope !== null) {
      headers['x-baton-scope'] = options.scope ?? 'tenant-a';
      headers['x-baton-principal'] = options.principal ?? 'alice';
    }
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json, headers: response.headers };
  };
}
