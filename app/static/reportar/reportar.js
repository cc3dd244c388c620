/**
 * The police field form (/reportar): one risk factor per report, offline first.
 *
 * The catalogue of factor types and the server's photo limits are read from the API and kept
 * in localStorage, so the form works with no signal once it has been opened with signal. A
 * report is always kept on the device first (cola.js) and then sent; the page sends what is
 * pending when it opens, when the connection returns ("online"), every 30 s while something
 * waits, and on "Reintentar ahora". The service worker (/reportar-sw.js) keeps the page's own
 * files so it opens offline.
 *
 * For tests and scripts: document.body data-estado="listo" once the form can take a report,
 * and #n-pendientes holds the number of reports waiting.
 */
import { api, el, getKey, newIdempotencyKey, problemMessage, setKey } from "/static/comun/api.js";
import * as cola from "/static/reportar/cola.js";
import { prepare } from "/static/reportar/fotos.js";
import { refreshOutbox, refreshSent } from "/static/reportar/listas.js";

const TYPES_CACHE = "vigia.campo.tipos";
const CONFIG_CACHE = "vigia.campo.config";
const RETRY_MS = 30_000;
const KINDS = {
  Point: { label: "Punto", help: "Un lugar: use el GPS o toque el mapa." },
  LineString: { label: "Tramo (línea)", help: "Un tramo, p. ej. una calle oscura: toque el mapa en cada punto del tramo (o use el GPS al caminarlo); al menos 2 puntos." },
  Polygon: { label: "Área", help: "Un área, p. ej. un sitio eriazo: toque sus esquinas en el mapa (o use el GPS en cada una); al menos 3 puntos." },
};
const DEFAULT_LIMITS = { photo_max_bytes: 8 * 1024 * 1024, photos_per_report: 10, max_vertices: 500 };

const $ = (id) => document.getElementById(id);
const state = {
  types: [],
  limits: DEFAULT_LIMITS,
  type: null,
  kind: "Point",
  vertices: [], // [lon, lat]
  accuracy: null, // metres, of the last GPS fix used
  photos: [], // {name, blob, resized, original}
  map: null,
  fix: null, // the last GPS fix [lon, lat, accuracy]
};

function note(id, text, kind) {
  const node = $(id);
  node.textContent = text || "";
  node.className = "nota" + (kind ? " " + kind : "");
}

const cached = (name) => {
  try {
    return JSON.parse(localStorage.getItem(name) || "null");
  } catch {
    return null;
  }
};

// --- key ---------------------------------------------------------------------------------

async function showKey() {
  const key = getKey();
  $("form-clave").hidden = Boolean(key);
  $("cambiar-clave").hidden = !key;
  if (!key) {
    note("estado-clave", "Escriba su clave de policía para informar.", "aviso");
    return;
  }
  const me = await api("GET", "/api/v1/me");
  if (me.ok) note("estado-clave", `Informa: ${me.body.key_name} (${me.body.institution}).`);
  else if (me.status === 0) note("estado-clave", "Clave guardada (sin conexión para comprobarla).");
  else note("estado-clave", "Clave rechazada: " + problemMessage(me), "error");
}

// --- catalogue ---------------------------------------------------------------------------

async function loadCatalogue() {
  const [types, config] = await Promise.all([
    api("GET", "/api/v1/risk-factor-types"),
    api("GET", "/api/v1/field-config", { auth: false }),
  ]);
  if (types.ok) localStorage.setItem(TYPES_CACHE, JSON.stringify(types.body));
  if (config.ok) localStorage.setItem(CONFIG_CACHE, JSON.stringify(config.body));
  state.types = (types.ok ? types.body : cached(TYPES_CACHE)) || [];
  state.limits = (config.ok ? config.body : cached(CONFIG_CACHE)) || DEFAULT_LIMITS;
  const select = $("tipo");
  if (!state.types.length) {
    select.replaceChildren(el("option", { value: "" }, "Catálogo no disponible (sin conexión)"));
    note("error-informe", "No se pudo leer el catálogo de tipos: " + problemMessage(types), "error");
    return;
  }
  const chosen = select.value; // a reload of the catalogue keeps the officer's choice
  select.replaceChildren(
    el("option", { value: "" }, "Elija el tipo de factor…"),
    ...state.types.filter((t) => t.active).map((t) => el("option", { value: t.code }, t.label))
  );
  select.value = state.types.some((t) => t.code === chosen) ? chosen : "";
  note("nota-fotos", `Hasta ${state.limits.photos_per_report} fotos; las grandes se reducen en el teléfono antes de enviarlas.`);
}

function attributeInput(code, spec) {
  const id = "attr-" + code;
  const label = el("label", { htmlFor: id }, spec.label || code, spec.required ? " (obligatorio)" : "");
  let input;
  if (spec.type === "enum" || spec.type === "boolean") {
    const values = spec.type === "boolean" ? [["true", "Sí"], ["false", "No"]] : spec.values.map((v) => [v, v]);
    input = el("select", { id }, el("option", { value: "" }, "—"), ...values.map(([v, t]) => el("option", { value: v }, t)));
  } else if (spec.type === "integer" || spec.type === "number") {
    input = el("input", { id, type: "number", inputMode: spec.type === "integer" ? "numeric" : "decimal", step: spec.type === "integer" ? "1" : "any" });
    if ("min" in spec) input.min = spec.min;
    if ("max" in spec) input.max = spec.max;
  } else {
    input = el("input", { id, type: "text", maxLength: spec.max_length || 200 });
  }
  input.dataset.atributo = code;
  input.dataset.tipo = spec.type;
  input.required = Boolean(spec.required);
  return el("div", { className: "atributo" }, label, input);
}

function chooseType(code) {
  state.type = state.types.find((t) => t.code === code) || null;
  const schema = (state.type && state.type.attributes_schema) || {};
  $("atributos").replaceChildren(...Object.entries(schema).map(([c, spec]) => attributeInput(c, spec)));
  const kinds = state.type ? state.type.geometry_types : ["Point"];
  if (!kinds.includes(state.kind)) setKind(kinds[0]);
  $("formas").replaceChildren(
    ...kinds.map((kind) =>
      el("label", { className: "forma" },
        el("input", { type: "radio", name: "forma", value: kind, checked: kind === state.kind }),
        " ", KINDS[kind].label)
    )
  );
  note("ayuda-forma", KINDS[state.kind].help);
}

/** The attributes as the API wants them, or a list of problems for people. */
function readAttributes() {
  const values = {};
  const problems = [];
  for (const input of document.querySelectorAll("[data-atributo]")) {
    const raw = input.value.trim();
    const label = input.previousElementSibling.textContent;
    if (!raw) {
      if (input.required) problems.push(`${label}: falta`);
      continue;
    }
    const kind = input.dataset.tipo;
    if (kind === "boolean") values[input.dataset.atributo] = raw === "true";
    else if (kind === "integer" || kind === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n) || (kind === "integer" && !Number.isInteger(n))) problems.push(`${label}: no es un número válido`);
      else values[input.dataset.atributo] = n;
    } else values[input.dataset.atributo] = raw;
  }
  return { values, problems };
}

// --- location ----------------------------------------------------------------------------

function setKind(kind) {
  if (kind === state.kind) return;
  state.kind = kind;
  state.vertices = state.vertices.slice(0, kind === "Point" ? 1 : undefined);
  note("ayuda-forma", KINDS[kind].help);
  drawLocation();
}

function addVertex(lonLat, accuracy) {
  if (state.kind === "Point") state.vertices = [lonLat];
  else if (state.vertices.length < state.limits.max_vertices) state.vertices.push(lonLat);
  state.accuracy = accuracy;
  drawLocation();
}

function drawLocation() {
  const n = state.vertices.length;
  const where = n ? state.vertices[n - 1].map((c) => c.toFixed(5)).reverse().join(", ") : "";
  const precision = state.accuracy ? ` · precisión del GPS ± ${Math.round(state.accuracy)} m` : " · elegido en el mapa";
  let text = "Sin ubicación todavía.";
  if (state.kind === "Point" && n) text = `Punto en ${where}${precision}.`;
  else if (n) text = `${n} punto${n > 1 ? "s" : ""} del ${state.kind === "Polygon" ? "área" : "tramo"}; último en ${where}${precision}.`;
  note("estado-ubicacion", text, state.accuracy > 50 ? "aviso" : "");
  if (state.accuracy > 50) $("estado-ubicacion").append(" Precisión baja: si puede, espere la señal o toque el mapa.");
  $("edicion-forma").hidden = !n;
  if (state.map) state.map.drawShape(state.kind, state.vertices);
}

/** The geometry to send, or a sentence saying what is missing. */
function geometry() {
  const v = state.vertices;
  if (state.kind === "Point") return v.length ? { type: "Point", coordinates: v[0] } : "Falta la ubicación: use el GPS o toque el mapa.";
  if (state.kind === "LineString") return v.length >= 2 ? { type: "LineString", coordinates: v } : "El tramo necesita al menos 2 puntos.";
  return v.length >= 3 ? { type: "Polygon", coordinates: [[...v, v[0]]] } : "El área necesita al menos 3 puntos.";
}

function useGps() {
  if (!navigator.geolocation) {
    note("estado-ubicacion", "Este teléfono no da la ubicación: elija en el mapa.", "error");
    return;
  }
  note("estado-ubicacion", "Buscando la señal del GPS…");
  navigator.geolocation.getCurrentPosition(
    (fix) => {
      const { longitude, latitude, accuracy } = fix.coords;
      state.fix = [longitude, latitude, accuracy];
      addVertex([longitude, latitude], accuracy);
      if (state.map) state.map.showPosition(longitude, latitude, accuracy);
    },
    (error) => {
      const why = error.code === 1 ? "el permiso de ubicación está negado" : "no hubo señal del GPS";
      note("estado-ubicacion", `Sin ubicación (${why}): elija en el mapa.`, "error");
    },
    { enableHighAccuracy: true, timeout: 20_000, maximumAge: 10_000 }
  );
}

async function openMap() {
  const box = $("mapa-campo");
  box.hidden = false;
  $("abrir-mapa").disabled = true;
  if (state.map) return;
  note("ayuda-forma", "Cargando el mapa…");
  try {
    const { FieldMap } = await import("/static/reportar/mapa.js");
    state.map = await FieldMap.open(box, { onTap: (lonLat) => addVertex(lonLat, null) });
    window.vigiaCampo.map = state.map;
    box.dataset.listo = "1";
    if (state.fix) state.map.showPosition(...state.fix);
    note("ayuda-forma", KINDS[state.kind].help);
    drawLocation();
  } catch {
    box.hidden = true;
    $("abrir-mapa").disabled = false;
    note("ayuda-forma", "El mapa no está disponible sin conexión: use el GPS.", "error");
  }
}

// --- photos ------------------------------------------------------------------------------

async function addPhotos(files) {
  const room = state.limits.photos_per_report - state.photos.length;
  const chosen = [...files].slice(0, Math.max(0, room));
  const problems = [];
  if (files.length > chosen.length) problems.push(`Máximo ${state.limits.photos_per_report} fotos por informe.`);
  note("nota-fotos", "Preparando las fotos…");
  for (const file of chosen) {
    const photo = await prepare(file, state.limits);
    if (photo.error) problems.push(photo.error);
    else state.photos.push(photo);
  }
  $("fotos").value = "";
  drawPhotos();
  if (problems.length) note("nota-fotos", problems.join(" "), "error");
}

function drawPhotos() {
  const kb = (n) => Math.round(n / 1024) + " KB";
  $("miniaturas").replaceChildren(
    ...state.photos.map((photo, i) => {
      const url = URL.createObjectURL(photo.blob);
      const img = el("img", { src: url, alt: `Foto ${i + 1}`, width: 72, height: 72 });
      img.addEventListener("load", () => URL.revokeObjectURL(url));
      const remove = el("button", { type: "button", className: "secundario", ariaLabel: `Quitar la foto ${i + 1}` }, "Quitar");
      remove.addEventListener("click", () => {
        state.photos.splice(i, 1);
        drawPhotos();
      });
      const size = photo.resized ? `${kb(photo.original)} → ${kb(photo.blob.size)}` : kb(photo.blob.size);
      return el("li", {}, img, el("span", {}, size), remove);
    })
  );
  note("nota-fotos", state.photos.length ? `${state.photos.length} foto(s) lista(s).` : "");
}

// --- submit ------------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  const problems = [];
  if (!getKey()) problems.push("Falta la clave de acceso.");
  if (!state.type) problems.push("Elija el tipo de factor.");
  const shape = geometry();
  if (typeof shape === "string") problems.push(shape);
  const attributes = readAttributes();
  problems.push(...attributes.problems);
  if (problems.length) {
    note("error-informe", problems.join(" "), "error");
    return;
  }
  const id = newIdempotencyKey();
  const description = $("descripcion").value.trim();
  const body = {
    id,
    type: state.type.code,
    geometry: shape,
    severity: Number(document.querySelector("input[name=gravedad]:checked").value),
    observed_at: new Date().toISOString(),
    attributes: attributes.values,
    ...(description ? { description } : {}),
  };
  await cola.keep({ body, label: state.type.label, photos: state.photos });
  resetForm();
  note("error-informe", navigator.onLine ? "Informe guardado; enviando…" : "Sin señal: el informe quedó guardado y se enviará solo al volver la conexión.", "aviso");
  await refreshOutbox();
  await send();
}

function resetForm() {
  state.vertices = [];
  state.accuracy = null;
  state.photos = [];
  $("descripcion").value = "";
  for (const input of document.querySelectorAll("[data-atributo]")) input.value = "";
  drawPhotos();
  drawLocation();
}

// --- outbox and recent reports -----------------------------------------------------------

let retryTimer = null;

async function send() {
  await cola.flush(refreshOutbox);
  const waiting = await refreshOutbox();
  await refreshSent();
  clearTimeout(retryTimer);
  if (waiting.some((r) => r.state !== "rechazado")) retryTimer = setTimeout(send, RETRY_MS);
  else if (waiting.length === 0) note("error-informe", "");
}

function showConnection() {
  $("conexion").textContent = navigator.onLine ? "En línea" : "Sin conexión: los informes quedan en el teléfono";
  $("conexion").className = "conexion " + (navigator.onLine ? "en-linea" : "sin-linea");
}

// --- start -------------------------------------------------------------------------------

function wire() {
  $("form-clave").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("clave").value.trim();
    if (!key) return;
    setKey(key, { remember: $("recordar").checked });
    $("clave").value = "";
    await showKey();
    await loadCatalogue();
    send();
  });
  $("cambiar-clave").addEventListener("click", () => {
    $("form-clave").hidden = false;
    $("cambiar-clave").hidden = true;
    $("clave").focus();
  });
  $("tipo").addEventListener("change", () => chooseType($("tipo").value));
  $("formas").addEventListener("change", (event) => setKind(event.target.value));
  $("gps").addEventListener("click", useGps);
  $("abrir-mapa").addEventListener("click", openMap);
  $("deshacer").addEventListener("click", () => {
    state.vertices.pop();
    drawLocation();
  });
  $("borrar-forma").addEventListener("click", () => {
    state.vertices = [];
    state.accuracy = null;
    drawLocation();
  });
  $("fotos").addEventListener("change", () => addPhotos($("fotos").files));
  $("form-informe").addEventListener("submit", submit);
  $("reintentar").addEventListener("click", send);
  window.addEventListener("online", () => {
    showConnection();
    send();
  });
  window.addEventListener("offline", showConnection);
}

async function start() {
  window.vigiaCampo = { state, send };
  wire();
  showConnection();
  chooseType("");
  await Promise.all([showKey(), loadCatalogue(), refreshOutbox()]);
  $("enviar").disabled = false;
  document.body.dataset.estado = "listo";
  send();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/reportar-sw.js", { scope: "/reportar" }).catch(() => {});
  }
}

start();
