/**
 * The field form's two lists: "Pendientes de envío (n)", each report waiting on the device
 * with its last outcome (a refused one with the server's reason and "Descartar"), and "Mis
 * informes recientes", the reports sent from this phone with their status read again from
 * the API when there is signal.
 */
import { api, el, formatDate, getKey } from "/static/comun/api.js";
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

/** Draws the reports sent from this phone, with their current status. */
export async function refreshSent() {
  const mine = await cola.sent();
  const online = navigator.onLine && getKey();
  const fresh = online
    ? await Promise.all(mine.map((r) => api("GET", `/api/v1/risk-factors/${r.id}`)))
    : [];
  $("enviados").replaceChildren(
    ...mine.map((r, i) => {
      const now = fresh[i] && fresh[i].ok ? fresh[i].body : null;
      if (now && now.status !== r.status) cola.rememberSent({ ...r, status: now.status });
      const status = now ? now.status : r.status;
      return el("li", {},
        el("strong", {}, r.label), " · ", formatDate(r.created), " · ",
        el("span", { className: "estado estado-" + status }, STATUS_LABELS[status] || status),
        now && now.responsible_unit ? el("span", { className: "nota" }, " · " + now.responsible_unit) : null,
        r.duplicates ? el("span", { className: "nota aviso" }, " · posible duplicado de otro informe cercano") : null,
        (r.photoProblems || []).length ? el("span", { className: "nota error" }, " · fotos rechazadas: " + r.photoProblems.join("; ")) : null);
    })
  );
  if (!mine.length) $("enviados").replaceChildren(el("li", { className: "nota" }, "Todavía no hay informes enviados desde este teléfono."));
}
