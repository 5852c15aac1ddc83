// Small DOM and formatting helpers shared by the views.

type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>>;
type Child = Node | string | null | undefined | false;

/** `document.createElement(tag)` with attributes (`false`/`null`/`undefined` ones left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** The element with this id; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`index.html has no <${type.name}> #${id}`);
  return el;
}

/** Shows `text` in a message element (`kind` picks the colour); "" hides it. */
export function say(el: HTMLElement, text: string, kind: "info" | "ok" | "error" = "info"): void {
  el.textContent = text;
  el.classList.toggle("error", kind === "error");
  el.classList.toggle("ok", kind === "ok");
}

/** The control a click landed on: the closest element with `data-action`, with its `data-id`. */
export function actionOf(event: Event): { action: string; id: number } | null {
  const target = event.target instanceof Element ? event.target.closest<HTMLElement>("[data-action]") : null;
  const action = target?.dataset.action;
  const id = Number(target?.dataset.id);
  return action === undefined || !Number.isInteger(id) ? null : { action, id };
}

const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** 123456 → "$1,234.56". */
export function money(cents: number): string {
  return dollars.format(cents / 100);
}

const count = new Intl.NumberFormat("en-US");

/** 12345 → "12,345". */
export function num(n: number): string {
  return count.format(n);
}
