/**
 * What the work pages share: the key form, status names, and one report's detail (facts, map,
 * photos, timeline) with the actions a page offers on it. Every change goes through `act`,
 * which sends the ETag read with the report as If-Match: when someone else changed it first
 * the page says so ("otra persona cambió este informe; recargue") and nothing is changed.
 */
import { api, clearKey, el, formatDate, getKey, problemMessage, setKey } from "/static/comun/api.js";

export const STATUS_LABELS = {
  reportado: "Reportado",
  validado: "Validado",
  derivado: "Derivado a la unidad",
  en_gestion: "En gestión",
  resuelto: "Resuelto",
  descartado: "Descartado",
  duplicado: "Duplicado",
};
export const OPEN_STATUSES = ["reportado", "validado", "derivado", "en_gestion"];
const ROLE_LABELS = {
  admin: "seguridad municipal (administración)",
  unit: "unidad responsable",
  planner: "planificación",
  police: "policía",
};

export const $ = (selector) => document.querySelector(selector);

/** The tests (and people) know the page is done loading from body[data-estado="listo"]. */
export function setReady(ready = true) {
  document.body.dataset.estado = ready ? "listo" : "cargando";
}

/** The key form: remembers the key for this tab (as the map does) and says whose it is. */
export function setupAccess(onChange) {
  const form = $("#form-clave");
  const input = $("#clave");
  const leave = $("#salir");
  const status = $("#estado-acceso");
  async function check() {
    setReady(false);
    status.classList.remove("error");
    if (!getKey()) {
      status.textContent = "Sin clave: ingrese la suya para trabajar.";
      leave.hidden = true;
      await onChange(null);
      setReady();
      return;
    }
    const me = await api("GET", "/api/v1/me");
    leave.hidden = false;
    try {
      if (!me.ok) {
        status.textContent = problemMessage(me);
        status.classList.add("error");
        await onChange(null);
      } else {
        const who = me.body;
        status.textContent = `Clave «${who.key_name}»: ${ROLE_LABELS[who.role] || who.role}, ` +
          `${who.institution}${who.unit ? " · " + who.unit : ""}.`;
        await onChange(who);
      }
    } finally {
      setReady(); // even if drawing failed: the page says it is done, the console says why
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setKey(input.value.trim());
    input.value = "";
    check();
  });
  leave.addEventListener("click", () => {
    clearKey();
    check();
  });
  check();
}

export function statusBadge(status) {
  return el("span", { className: "etiqueta estado-" + status }, STATUS_LABELS[status] || status);
}

export function overdueBadge(overdue) {
  return overdue ? el("span", { className: "etiqueta vencido" }, "Vencido") : null;
}

/** One report in a list: a button that opens its detail. */
export function reportItem(feature, selectedId, onOpen) {
  const p = feature.properties;
  const button = el(
    "button",
    {
      type: "button",
      className: "item" + (p.overdue ? " vencido" : ""),
      "aria-pressed": String(feature.id === selectedId),
      "data-id": feature.id,
      "data-estado": p.status,
    },
    el("span", { className: "titulo" }, p.type_label),
    el("span", { className: "datos" }, statusBadge(p.status), " ", overdueBadge(p.overdue),
      " Barrio ", p.barrio || "—", " · gravedad ", String(p.severity)),
    el("span", { className: "datos" }, "Recibido ", formatDate(p.received_at),
      " · plazo ", formatDate(p.due_at), p.responsible_unit ? " · " + p.responsible_unit : ""),
  );
  button.addEventListener("click", () => onOpen(feature.id));
  return el("li", {}, button);
}

// --- the report's map and photos ------------------------------------------------------------

let territory = null;
function territoryLayers() {
  // the micro-barrio outlines and the configured basemap, fetched once per page
  territory ||= Promise.all([api("GET", "/api/v1/map-config"), api("GET", "/api/v1/micro-barrios")]);
  return territory;
}

function drawMap(container, geometry) {
  if (!window.L) return null; // Leaflet not installed: the facts are still there
  const map = L.map(container, { scrollWheelZoom: false, attributionControl: true });
  const shape = L.geoJSON(geometry, {
    pointToLayer: (_, latlng) => L.circleMarker(latlng, { radius: 9, color: "#a10e0e", weight: 3 }),
    style: { color: "#a10e0e", weight: 4 },
  }).addTo(map);
  map.fitBounds(shape.getBounds(), { maxZoom: 16, padding: [20, 20] });
  territoryLayers().then(([config, units]) => {
    const base = config.ok && config.body.basemap;
    if (base) {
      L.tileLayer(base.url, { attribution: base.attribution, maxZoom: base.max_zoom }).addTo(map);
    }
    if (units.ok) {
      L.geoJSON(units.body, {
        style: { color: "#17324d", weight: 1, fillColor: "#9fb3c8", fillOpacity: 0.12, dashArray: "4 3" },
        interactive: false,
        onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name, { permanent: true,
          direction: "center", className: "nombre-unidad" }),
      }).addTo(map);
      shape.bringToFront();
    }
  });
  return map;
}

/** Photos need the key, so they are fetched and shown from a blob URL (CSP allows blob:). */
const shownPhotos = [];
async function loadPhoto(img, url) {
  try {
    const response = await fetch(url, { headers: { Authorization: "Bearer " + getKey() } });
    if (response.ok) {
      img.src = URL.createObjectURL(await response.blob());
      shownPhotos.push(img.src);
    }
  } catch {
    img.alt += " (no se pudo cargar)";
  }
}

function actorText(actor) {
  const who = actor.name || actor.unit || actor.institution || "—";
  return who + (actor.role ? ` (${ROLE_LABELS[actor.role] || actor.role})` : "");
}

function stepDetails(details) {
  const parts = [];
  if (details.responsible_unit) parts.push("a " + details.responsible_unit);
  if (details.project_id) parts.push("proyecto n.º " + details.project_id);
  if (details.duplicate_of) parts.push("duplicado de " + details.duplicate_of.slice(0, 8));
  if (details.reopened) parts.push("reabierto");
  return parts.length ? " · " + parts.join(" · ") : "";
}

/** Lifecycle steps and photos, in time order: what happened to the report, and who did it. */
export function timeline(report) {
  const entries = [
    ...report.timeline.map((step) => ({
      at: step.at,
      node: el("li", { "data-estado": step.to_status },
        el("span", { className: "cuando" }, formatDate(step.at)),
        el("strong", {}, STATUS_LABELS[step.to_status] || step.to_status),
        " por ", actorText(step.actor), stepDetails(step.details || {}),
        step.note ? el("span", { className: "nota-paso" }, "«" + step.note + "»") : null),
    })),
    ...report.photos.map((photo) => ({
      at: photo.created_at,
      node: el("li", { "data-foto": photo.id },
        el("span", { className: "cuando" }, formatDate(photo.created_at)), "Foto agregada"),
    })),
  ];
  entries.sort((a, b) => new Date(a.at) - new Date(b.at));
  return el("ol", { className: "linea-tiempo" }, entries.map((e) => e.node));
}

function facts(report) {
  const rows = [
    ["Estado", [statusBadge(report.status), " ", overdueBadge(report.overdue)]],
    ["Gravedad", `${report.severity} de 5`],
    ["Barrio", report.barrio ? `${report.barrio.name} (${report.barrio.code})` : "—"],
    ["Micro-barrio", report.micro_barrio ? report.micro_barrio.name : "—"],
    ["Observado", formatDate(report.observed_at)],
    ["Recibido", formatDate(report.received_at)],
    ["Plazo", formatDate(report.due_at)],
    ["Unidad responsable", report.responsible_unit || `(sugerida: ${report.suggested_unit})`],
    ["Informó", [report.institution, report.reporting_unit].filter(Boolean).join(" · ")],
    ["Proyecto", report.project_id ? el("a", { href: "/proyectos#" + report.project_id },
      "n.º " + report.project_id) : "—"],
    ["Descripción", report.description || "—"],
  ];
  if (report.duplicate_of) rows.push(["Duplicado de", report.duplicate_of]);
  for (const [name, value] of Object.entries(report.attributes || {})) {
    rows.push([name.replaceAll("_", " "), String(value)]);
  }
  return el("dl", {}, rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
}

// --- one report, and the changes made to it ------------------------------------------------

/**
 * The detail panel of one report. `actionsFor(report, act)` returns the page's forms; each
 * calls `act(request, done)` where `request(report, etag)` performs the change with that ETag
 * and answers as `api` does (plus an optional `warning` when a later step failed).
 */
export function reportView({ section, actionsFor, onChanged }) {
  const content = section.querySelector("#detalle-contenido");
  const title = section.querySelector("h2");
  const state = { report: null, etag: null };
  let map = null;

  function render(message) {
    const report = state.report;
    if (map) map.remove();
    while (shownPhotos.length) URL.revokeObjectURL(shownPhotos.pop()); // the previous render's
    title.textContent = report.type.label;
    const mapBox = el("div", { className: "mapa-informe", role: "region",
      "aria-label": "Ubicación del informe en el mapa" });
    const photos = el("ul", { className: "fotos" }, report.photos.map((photo, i) => {
      const img = el("img", { alt: `Foto ${i + 1} del informe, ${formatDate(photo.created_at)}` });
      loadPhoto(img, photo.url);
      return el("li", {}, img);
    }));
    content.replaceChildren(
      el("p", { id: "mensaje-accion", className: "mensaje" + (message?.error ? " error" : ""),
        role: message?.error ? "alert" : "status" }, message?.text || "", message?.reload || null),
      facts(report),
      mapBox,
      el("h3", {}, "Fotos"),
      report.photos.length ? photos : el("p", { className: "nota" }, "Sin fotos."),
      el("h3", {}, "Línea de tiempo"),
      timeline(report),
      el("h3", {}, "Acciones"),
      el("div", { className: "acciones" }, actionsFor(report, act)),
    );
    content.dataset.id = report.id;
    content.dataset.estado = report.status;
    content.dataset.version = String(report.version);
    map = drawMap(mapBox, report.geometry);
    // the outcome of an action is said at the top: bring it into view (the form was below)
    if (message?.text) content.querySelector("#mensaje-accion").scrollIntoView({ block: "center" });
  }

  async function show(id, message) {
    setReady(false);
    section.hidden = false;
    const res = await api("GET", `/api/v1/risk-factors/${id}`);
    if (!res.ok) {
      content.replaceChildren(el("p", { className: "mensaje error", role: "alert" }, problemMessage(res)));
      setReady();
      return;
    }
    state.report = res.body;
    state.etag = res.etag;
    render(message);
    history.replaceState(null, "", "#" + id);
    setReady();
  }

  /** Perform a change with the ETag read; on success reload, on a stale tag say so. */
  async function act(request, done) {
    setReady(false);
    for (const button of content.querySelectorAll(".acciones button")) button.disabled = true;
    let res;
    try {
      res = await request(state.report, state.etag);
    } catch (error) {
      // e.g. a photo format this browser cannot redraw: say so, change nothing more
      res = { ok: false, status: -1, body: { detail: "No se pudo preparar el envío: " + error.message } };
    }
    if (res.ok) {
      // a warning: the change was made, a second step (a photo) was not
      await show(state.report.id, res.warning ? { text: res.warning, error: true } : { text: done });
      if (onChanged) await onChanged();
      return;
    }
    const reload = res.status === 412 || res.status === 428
      ? el("button", { type: "button", className: "secundario", onclick: () => show(state.report.id) },
        "Recargar el informe")
      : null;
    render({ text: problemMessage(res) + " ", error: true, reload });
    setReady();
  }

  /** Open a report from the list: mark it, show it, and on a phone bring it into view. */
  async function open(id) {
    for (const b of document.querySelectorAll("#informes button.item")) {
      b.setAttribute("aria-pressed", String(b.dataset.id === id));
    }
    await show(id);
    if (window.matchMedia("(max-width: 899px)").matches) section.scrollIntoView();
  }

  const back = section.querySelector(".volver");
  if (back) back.addEventListener("click", () => document.querySelector(back.dataset.lista).scrollIntoView());
  return { open, show, state };
}

/** A transition with If-Match: POST /risk-factors/{id}/transitions. */
export function transition(report, etag, body) {
  return api("POST", `/api/v1/risk-factors/${report.id}/transitions`, { body, etag });
}

/** An action as a collapsible form (the main one open): fields, a button, a submit handler. */
export function actionForm({ title, open = false, fields = [], button, danger = false, onSubmit }) {
  const form = el("form", {}, fields, el("button", { type: "submit",
    className: danger ? "peligro" : "" }, button));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSubmit(new FormData(form), form);
  });
  return el("details", { className: "accion", open }, el("summary", {}, title), form);
}

let fieldCount = 0;
/** A labelled input, select or textarea (ids are unique on the page). */
export function field(label, tag, attrs = {}, ...children) {
  const id = "campo-" + ++fieldCount;
  return [el("label", { htmlFor: id }, label), el(tag, { id, ...attrs }, ...children)];
}

/**
 * A photo within the server's limits: a large or unusual image is redrawn as a JPEG of at most
 * `maxSide` pixels a side (the server re-encodes it again and drops EXIF either way).
 */
export async function preparePhoto(file, { maxBytes = 6 * 1024 * 1024, maxSide = 2560 } = {}) {
  const accepted = ["image/jpeg", "image/png", "image/webp"];
  if (file.size <= maxBytes && accepted.includes(file.type)) return file;
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  return new File([blob], "foto.jpg", { type: "image/jpeg" });
}

export { api, el, formatDate, problemMessage };
