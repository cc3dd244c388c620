/**
 * The field form's outbox: every report is first kept on the device (IndexedDB), then sent.
 *
 * A report is stored with its Idempotency-Key (also its `id`, a UUID made on the device) and
 * its photos as Blobs. `flush()` sends what is pending: the report first (a retry with the
 * same key is answered with the original report, never a second one), then its photos one by
 * one, each removed from the device once the server has it (after an upload that got no
 * answer, the report's photo count says whether it arrived, so it is not sent twice). Without a connection (status 0)
 * or with a busy server (5xx, 429) the record stays pending for the next try; a report the
 * server refuses (4xx) is kept with the server's message so the officer sees why. Sent
 * reports move to the "enviados" store (without photos): the recent reports shown offline.
 *
 * Only one flush runs at a time on the device (Web Locks across tabs, a promise in a tab).
 */
import { api, problemMessage } from "/static/comun/api.js";

const DB_NAME = "vigia-campo";
const PENDING = "pendientes";
const SENT = "enviados";
export const RECENT = 20; // reports in "Mis informes recientes"
const WAITING = "Guardado en el teléfono; se enviará solo al volver la conexión.";

let opened = null;

function openDb() {
  if (opened) return opened;
  opened = new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(PENDING, { keyPath: "id" });
      request.result.createObjectStore(SENT, { keyPath: "id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run(store, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const result = work(tx.objectStore(store));
    tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

const put = (store, record) => run(store, "readwrite", (s) => s.put(record));
const remove = (store, id) => run(store, "readwrite", (s) => s.delete(id));
const all = (store) => run(store, "readonly", (s) => s.getAll());

/** Pending reports, oldest first. */
export async function pending() {
  return (await all(PENDING)).sort((a, b) => a.created.localeCompare(b.created));
}

/** Reports sent from this device, newest first. */
export async function sent() {
  return (await all(SENT)).sort((a, b) => b.created.localeCompare(a.created)).slice(0, RECENT);
}

/** Keep a new report on the device; `body` is the API's RiskFactorCreate, its id the key. */
export async function keep({ body, label, photos }) {
  const record = {
    id: body.id,
    idempotencyKey: body.id,
    label,
    body,
    photos, // [{name, blob}]
    created: new Date().toISOString(),
    reportId: null,
    state: "pendiente", // pendiente | rechazado
    message: WAITING,
    attempts: 0,
  };
  await put(PENDING, record);
  return record;
}

export const discard = (id) => remove(PENDING, id);
export const rememberSent = (record) => put(SENT, record);

const retryLater = (status) => status === 0 || status === 401 || status === 429 || status >= 500;

/** Send one record as far as it goes; returns false when the connection (or server) failed. */
async function sendOne(record) {
  record.attempts += 1;
  if (!record.reportId) {
    const result = await api("POST", "/api/v1/risk-factors", {
      body: record.body,
      idempotencyKey: record.idempotencyKey,
    });
    if (!result.ok) {
      record.message = result.status === 0 ? WAITING : problemMessage(result);
      if (!retryLater(result.status)) record.state = "rechazado";
      await put(PENDING, record);
      return !retryLater(result.status); // a refused report does not hold back the next
    }
    record.reportId = result.body.id;
    record.status = result.body.status;
    record.duplicates = (result.body.possible_duplicates || []).length;
    record.message = "Informe recibido; enviando fotos…";
    await put(PENDING, record);
  }
  const failedPhotos = record.failedPhotos || [];
  if (record.photos.length && record.photoUnanswered) {
    // the last upload got no answer: if the server has it, it is not sent again
    const report = await api("GET", `/api/v1/risk-factors/${record.reportId}`);
    if (!report.ok) return false;
    if (report.body.photos.length > (record.photosSent || 0)) {
      record.photos.shift();
      record.photosSent = report.body.photos.length;
    }
    record.photoUnanswered = false;
    await put(PENDING, record);
  }
  while (record.photos.length) {
    const [photo] = record.photos;
    const form = new FormData();
    form.append("file", photo.blob, photo.name);
    const result = await api("POST", `/api/v1/risk-factors/${record.reportId}/photos`, { form });
    if (!result.ok && retryLater(result.status)) {
      record.photoUnanswered = result.status === 0;
      record.message = "Informe recibido; faltan fotos: " + problemMessage(result);
      await put(PENDING, record);
      return false;
    }
    if (!result.ok) failedPhotos.push(`${photo.name}: ${problemMessage(result)}`);
    else record.photosSent = (record.photosSent || 0) + 1;
    record.photos.shift();
    record.failedPhotos = failedPhotos;
    await put(PENDING, record);
  }
  await put(SENT, {
    id: record.reportId,
    label: record.label,
    created: record.created,
    status: record.status,
    duplicates: record.duplicates || 0,
    photoProblems: failedPhotos,
  });
  await remove(PENDING, record.id);
  return true;
}

let flushing = null;

async function flushAll(onChange) {
  for (const record of await pending()) {
    if (record.state === "rechazado") continue;
    const reached = await sendOne(record);
    onChange();
    if (!reached) break; // offline or busy: the rest waits for the next try
  }
}

/** Send everything pending (one flush at a time on this device); `onChange` after each step. */
export function flush(onChange = () => {}) {
  if (flushing) return flushing;
  const work = navigator.locks
    ? navigator.locks.request("vigia-campo-cola", () => flushAll(onChange))
    : flushAll(onChange);
  flushing = work.finally(() => {
    flushing = null;
  });
  return flushing;
}
