/**
 * Vigía's work pages (field form, inbox, unit queue, projects, council) talk to the same REST
 * API as any client: this module is their one way to call it.
 *
 * - The key is the one the web map keeps (sessionStorage "vigia.clave"), sent as
 *   "Authorization: Bearer ..."; a page may ask for it to be remembered on the device
 *   (localStorage) where a person works offline.
 * - Every answer comes back as {ok, status, body, etag}: never an exception, so a page shows a
 *   message instead of breaking; `problemMessage` turns a problem+json body (or no connection)
 *   into a sentence for people, in Spanish.
 * - Writes on an existing object send If-Match with the ETag read before; a 412 reads
 *   "otra persona cambió este informe; recargue".
 */

export const KEY_STORAGE = "vigia.clave";

export function getKey() {
  return sessionStorage.getItem(KEY_STORAGE) || localStorage.getItem(KEY_STORAGE) || "";
}

/** Keep the key for this tab, or also on the device when `remember` (field use, offline). */
export function setKey(key, { remember = false } = {}) {
  sessionStorage.setItem(KEY_STORAGE, key);
  if (remember) localStorage.setItem(KEY_STORAGE, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY_STORAGE);
  localStorage.removeItem(KEY_STORAGE);
}

/** A fresh Idempotency-Key: a retried write with the same key never creates a second object. */
export const newIdempotencyKey = () => crypto.randomUUID();

/**
 * Call the API. `body` is sent as JSON, `form` (a FormData) as multipart; `etag` becomes
 * If-Match, `idempotencyKey` Idempotency-Key. Never throws.
 */
export async function api(method, url, { body, form, etag, idempotencyKey, auth = true } = {}) {
  const headers = { Accept: "application/json, application/geo+json, application/problem+json" };
  const key = getKey();
  if (auth && key) headers.Authorization = "Bearer " + key;
  if (etag) headers["If-Match"] = etag;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  try {
    const response = await fetch(url, { method, headers, body: payload });
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { detail: text };
    }
    return { ok: response.ok, status: response.status, body: parsed, etag: response.headers.get("ETag") };
  } catch {
    return { ok: false, status: 0, body: null, etag: null };
  }
}

const BY_STATUS = {
  0: "Sin conexión con el servidor.",
  401: "Falta la clave de acceso o no es válida.",
  403: "Su clave no permite esta acción.",
  404: "No existe, o no es visible con su clave.",
  412: "Otra persona cambió este informe; recargue.",
  428: "Recargue el informe antes de cambiarlo.",
  429: "Demasiadas solicitudes: espere un momento y reintente.",
};

/** A sentence for people: the problem's detail and its offending fields, or a fallback. */
export function problemMessage(result) {
  if (result.status === 0 || result.status === 412 || result.status === 428) {
    return BY_STATUS[result.status];
  }
  const body = result.body || {};
  const fields = (body.errors || body.invalid_params || [])
    .map((e) => [e.field || e.name || (e.loc || []).join("."), e.reason || e.msg]
      .filter(Boolean).join(": "))
    .filter(Boolean);
  const main = body.detail || body.title || BY_STATUS[result.status] || "Error " + result.status + ".";
  return fields.length ? main + " (" + fields.join("; ") + ")" : main;
}

/** An element with attributes and children (text children are never parsed as HTML). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "style") Object.assign(node.style, value);
    else if (name in node && name !== "list") node[name] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const dateTime = new Intl.DateTimeFormat("es-CL", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "America/Santiago",
});
export const formatDate = (iso) => (iso ? dateTime.format(new Date(iso)) : "—");
