/**
 * The field form's two lists: "Pendientes de envío (n)", each report waiting on the device
 * with its last outcome (a refused one with the server's reason and "Descartar"), and "Mis
 * informes recientes", the officer's own reports from the API when there is signal (sent
 * from any device with the same key), the ones sent from this phone when there is none.
 */
import { api, el, formatDate, getKey, problemMessage } from "/static/comun/api.js";
import * as cola from "/static/reportar/cola.js";

const $ = (id) => document.getElementById(id);

const STATUS_LABELS = {
  reportado: "Reportado",
  validado: "Validado",
  derivado: "Derivado",
  en_gestion: "En gestión",
  resuelto: "Resuelto",
  descartado: "Descartado",
  duplicado: "Duplicado",
};

/** Draws the pending reports; returns them. */
export async function refreshOutbox() {
  const waiting = await cola.pending();
  $("n-pendientes").textContent = String(waiting.length);
  $("reintentar").hidden = !waiting.length;
  $("pendientes").replaceChildren(
    ...waiting.map((r) => {
      const item = el("li", { className: r.state },
        el("strong", {}, r.label), " · ", formatDate(r.created),
        el("br"), el("span", { className: "nota" + (r.state === "rechazado" ? " error" : "") },
          r.state === "rechazado" ? "Rechazado: " + r.message : r.message,
          r.attempts ? ` (intentos: ${r.attempts})` : ""),
        r.photos.length ? el("span", { className: "nota" }, ` (${r.photos.length} foto(s) por enviar)`) : null);
      if (r.state === "rechazado") {
        const drop = el("button", { type: "button", className: "secundario" }, "Descartar");
        drop.addEventListener("click", async () => {
          await cola.discard(r.id);
          await refreshOutbox();
        });
        item.append(drop);
      }
      return item;
    })
  );
  return waiting;
}

/**
 * Draws "Mis informes recientes". Online with a key: the reports this key sent from any
 * device (`GET /api/v1/risk-factors?mine=true`), newest first, each with what this phone
 * remembers of it (a possible duplicate, refused photos). Offline, or when the server cannot
 * be reached: the reports sent from this phone, with their last known status.
 */
export async function refreshSent() {
  const local = await cola.sent();
  const online = navigator.onLine && getKey();
  const server = online
    ? await api("GET", `/api/v1/risk-factors?mine=true&limit=${cola.RECENT}`)
    : null;
  let items;
  if (server && server.ok) {
    const here = new Map(local.map((r) => [r.id, r]));
    items = server.body.features
      .map((f) => {
        const p = f.properties;
        const kept = here.get(f.id);
        if (kept && kept.status !== p.status) cola.rememberSent({ ...kept, status: p.status });
        return {
          id: f.id,
          label: p.type_label,
          created: p.received_at,
          status: p.status,
          unit: p.responsible_unit,
          duplicates: kept ? kept.duplicates : 0,
          photoProblems: kept ? kept.photoProblems : [],
        };
      })
      .sort((a, b) => b.created.localeCompare(a.created));
  } else {
    items = local.map((r) => ({ ...r, unit: null }));
  }
  const fromServer = Boolean(server && server.ok);
  const here = "los enviados desde este teléfono, con su último estado conocido.";
  $("origen-recientes").textContent = fromServer
    ? "Enviados con su clave, desde este u otro teléfono."
    : !navigator.onLine
      ? "Sin conexión: " + here
      : !getKey()
        ? "Sin clave: " + here
        : `No se pudo leer su lista (${problemMessage(server)}): ` + here;
  $("enviados").dataset.origen = fromServer ? "servidor" : "telefono";
  $("enviados").replaceChildren(
    ...items.map((r) =>
      el("li", {},
        el("strong", {}, r.label), " · ", formatDate(r.created), " · ",
        el("span", { className: "estado estado-" + r.status }, STATUS_LABELS[r.status] || r.status),
        r.unit ? el("span", { className: "nota" }, " · " + r.unit) : null,
        r.duplicates ? el("span", { className: "nota aviso" }, " · posible duplicado de otro informe cercano") : null,
        (r.photoProblems || []).length ? el("span", { className: "nota error" }, " · fotos rechazadas: " + r.photoProblems.join("; ")) : null)
    )
  );
  if (!items.length) {
    const none = fromServer ? "Todavía no hay informes enviados con esta clave." : "Todavía no hay informes enviados desde este teléfono.";
    $("enviados").replaceChildren(el("li", { className: "nota" }, none));
  }
}
