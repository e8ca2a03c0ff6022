type Child = Node | string | false | null | undefined;

export interface ElementProps {
  class?: string;
  text?: string;
  /** Attributes (aria-*, data-*, type, for…); `false`/`undefined` leave one out. */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;
}

/** Creates an element with its class, text, attributes, listeners and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [type, listener] of Object.entries(props.on ?? {})) node.addEventListener(type, listener as EventListener);
  for (const child of children) if (child !== false && child !== null && child !== undefined) node.append(child);
  return node;
}

/** "+1.234 s" / "+56 ms". */
export function offset(ms: number): string {
  return `+${duration(ms)}`;
}

/** "1.23 s" / "56 ms". */
export function duration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** The first characters of an id, for display ("job_1f3a…"). */
export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}
