/**
 * /bandeja: municipal security's inbox. Reports filtered by status, type, barrio and overdue;
 * a report's detail with its map, photos and timeline; and the calls that are municipal
 * security's (admin keys): validate, route to a unit, discard with a reason, mark duplicate,
 * link to a project, reopen. The API enforces who may do what; the page only offers it.
 */
import {
  $,
  OPEN_STATUSES,
  STATUS_LABELS,
  actionForm,
  api,
  el,
  field,
  formatDate,
  problemMessage,
  reportItem,
  reportView,
  setReady,
  setupAccess,
  transition,
} from "/static/trabajo/comun.js";

const OPEN = "abiertos";
const page = { types: [], projects: [], selected: null, who: null };

const view = reportView({
  section: $("#detalle"),
  actionsFor,
  onChanged: () => loadList(),
});

// --- filters and the list -------------------------------------------------------------------

function fillFilters(types, barrios) {
  const status = $("#filtro-estado");
  // replaceChildren takes nodes, not arrays: spread them
  status.replaceChildren(
    el("option", { value: OPEN }, "Abiertos (sin resolver)"),
    el("option", { value: "" }, "Todos los estados"),
    ...Object.entries(STATUS_LABELS).map(([value, label]) => el("option", { value }, label)),
  );
  $("#filtro-tipo").replaceChildren(el("option", { value: "" }, "Todos los tipos"),
    ...types.map((t) => el("option", { value: t.code }, t.label)));
  $("#filtro-barrio").replaceChildren(el("option", { value: "" }, "Todos los barrios"),
    ...barrios.map((b) => el("option", { value: b.code }, `${b.name} (${b.code})`)));
}

function listQuery() {
  const params = new URLSearchParams({ limit: "500" });
  const status = $("#filtro-estado").value;
  for (const s of status === OPEN ? OPEN_STATUSES : status ? [status] : []) params.append("status", s);
  if ($("#filtro-tipo").value) params.set("type", $("#filtro-tipo").value);
  if ($("#filtro-barrio").value) params.set("barrio", $("#filtro-barrio").value);
  if ($("#filtro-vencidos").checked) params.set("overdue", "true");
  return params;
}

async function loadList() {
  const list = $("#informes");
  const summary = $("#resumen-lista");
  if (!page.who) {
    list.replaceChildren();
    summary.textContent = "Ingrese una clave para ver los informes.";
    return;
  }
  const res = await api("GET", "/api/v1/risk-factors?" + listQuery());
  if (!res.ok) {
    list.replaceChildren();
    summary.textContent = problemMessage(res);
    summary.classList.add("error");
    return;
  }
  summary.classList.remove("error");
  const features = res.body.features;
  const overdue = features.filter((f) => f.properties.overdue).length;
  summary.textContent = `${features.length} informe${features.length === 1 ? "" : "s"}` +
    (overdue ? `, ${overdue} vencido${overdue === 1 ? "" : "s"}` : "") + ".";
  list.replaceChildren(...features.map((f) => reportItem(f, page.selected, (id) => {
    page.selected = id;
    view.open(id);
  })));
}

// --- actions --------------------------------------------------------------------------------

function note(label = "Nota (opcional)", required = false) {
  return field(label, "textarea", { name: "note", maxLength: 2000, required });
}

function noteOf(data) {
  const text = (data.get("note") || "").trim();
  return text || undefined;
}

function unitField(report) {
  const units = [...new Set(page.types.map((t) => t.default_unit))].sort();
  return [
    ...field("Unidad responsable", "input", { name: "unit", list: "unidades", required: true,
      value: report.responsible_unit || report.suggested_unit, maxLength: 200 }),
    el("datalist", { id: "unidades" }, units.map((u) => el("option", { value: u }))),
    el("p", { className: "nota" }, `Por defecto, la del tipo: ${report.suggested_unit}.`),
  ];
}

function centre(geometry) {
  const points = [];
  const walk = (c) => (typeof c[0] === "number" ? points.push(c) : c.forEach(walk));
  walk(geometry.coordinates);
  const sum = points.reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
  return [sum[0] / points.length, sum[1] / points.length];
}

function metres([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const x = (lon2 - lon1) * rad * Math.cos(((lat1 + lat2) / 2) * rad);
  const y = (lat2 - lat1) * rad;
  return Math.round(6371000 * Math.hypot(x, y));
}

/** Open reports of the same type within ~200 m: the listing API with a bbox around it. */
async function nearbyOpen(report, box) {
  const [lon, lat] = centre(report.geometry);
  const params = new URLSearchParams({ type: report.type.code, limit: "50",
    bbox: [lon - 0.0026, lat - 0.0018, lon + 0.0026, lat + 0.0018].map((v) => v.toFixed(6)).join(",") });
  for (const s of OPEN_STATUSES) params.append("status", s);
  box.replaceChildren(el("p", { className: "nota" }, "Buscando informes cercanos…"));
  const res = await api("GET", "/api/v1/risk-factors?" + params);
  if (!res.ok) {
    box.replaceChildren(el("p", { className: "nota error" }, problemMessage(res)));
    return;
  }
  const found = res.body.features
    .filter((f) => f.id !== report.id)
    .map((f) => ({ f, d: metres([lon, lat], centre(f.geometry)) }))
    .sort((a, b) => a.d - b.d);
  if (!found.length) {
    box.replaceChildren(el("p", { className: "nota" },
      "No hay informes abiertos del mismo tipo a menos de 200 m."));
    return;
  }
  box.replaceChildren(el("fieldset", {}, el("legend", {}, "¿Duplicado de cuál?"),
    el("ul", { className: "candidatos" }, found.map(({ f, d }, i) => el("li", {}, el("label", {},
      el("input", { type: "radio", name: "duplicate_of", value: f.id, required: true, checked: i === 0 }),
      `a ${d} m · ${STATUS_LABELS[f.properties.status]} · recibido ${formatDate(f.properties.received_at)}`
        + ` · ${f.id.slice(0, 8)}`))))));
}

function duplicateForm(report, act) {
  const box = el("div", {}, el("p", { className: "nota" }, "Al abrir, se buscan informes abiertos del mismo tipo cerca."));
  const form = actionForm({
    title: "Marcar duplicado",
    fields: [box, ...note()],
    button: "Marcar duplicado",
    onSubmit: (data) => act((r, etag) => transition(r, etag, { to: "duplicado",
      duplicate_of: data.get("duplicate_of"), note: noteOf(data) }), "Marcado como duplicado."),
  });
  form.addEventListener("toggle", () => form.open && nearbyOpen(report, box));
  return form;
}

function projectForm(report, act) {
  const options = page.projects.filter((p) => p.comuna === report.comuna);
  if (!options.length) {
    return el("details", { className: "accion" }, el("summary", {}, "Asociar a un proyecto"),
      el("p", { className: "nota" }, "No hay proyectos en esta comuna: ", el("a", { href: "/proyectos" }, "cree uno"), "."));
  }
  return actionForm({
    title: report.project_id ? `Proyecto n.º ${report.project_id}: cambiar o quitar` : "Asociar a un proyecto",
    fields: field("Proyecto de intervención", "select", { name: "project" },
      el("option", { value: "" }, "(ninguno: quitar el proyecto)"),
      options.map((p) => el("option", { value: String(p.id), selected: p.id === report.project_id },
        `n.º ${p.id} · ${p.name}`))),
    button: "Guardar proyecto",
    onSubmit: (data) => {
      const id = data.get("project") ? Number(data.get("project")) : null;
      act((r, etag) => api("PATCH", `/api/v1/risk-factors/${r.id}`, { body: { project_id: id }, etag }),
        id ? `Asociado al proyecto n.º ${id}.` : "Proyecto quitado.");
    },
  });
}

function actionsFor(report, act) {
  const s = report.status;
  const forms = [];
  if (s === "reportado") {
    forms.push(actionForm({ title: "Validar", open: true, fields: note(), button: "Validar",
      onSubmit: (data) => act((r, etag) => transition(r, etag, { to: "validado", note: noteOf(data) }),
        "Informe validado.") }));
  }
  if (s === "validado") {
    forms.push(actionForm({ title: "Derivar a una unidad", open: true,
      fields: [...unitField(report), ...note()], button: "Derivar",
      onSubmit: (data) => act((r, etag) => transition(r, etag, { to: "derivado",
        responsible_unit: data.get("unit").trim(), note: noteOf(data) }),
        `Derivado a ${data.get("unit").trim()}.`) }));
  }
  if (s === "resuelto") {
    forms.push(actionForm({ title: "Reabrir (vuelve a la unidad)", open: true,
      fields: note("Motivo", true), button: "Reabrir",
      onSubmit: (data) => act((r, etag) => transition(r, etag, { to: "derivado", note: noteOf(data) }),
        "Informe reabierto: vuelve a la cola de la unidad.") }));
  }
  if (OPEN_STATUSES.includes(s)) {
    forms.push(duplicateForm(report, act));
    forms.push(actionForm({ title: "Descartar", fields: note("Motivo del descarte", true),
      button: "Descartar", danger: true,
      onSubmit: (data) => act((r, etag) => transition(r, etag, { to: "descartado", note: noteOf(data) }),
        "Informe descartado.") }));
  }
  if (s !== "descartado" && s !== "duplicado") forms.push(projectForm(report, act));
  if (!forms.length) forms.push(el("p", { className: "nota" }, "Estado final: no admite más cambios."));
  return forms;
}

// --- start ----------------------------------------------------------------------------------

async function start(who) {
  page.who = who;
  if (who && who.role !== "admin") {
    $("#estado-acceso").append(" Esta bandeja es de seguridad municipal (rol admin): con esta clave " +
      "puede mirar, pero no validar ni derivar.");
  }
  const [types, barrios, projects] = await Promise.all([
    api("GET", "/api/v1/risk-factor-types"),
    api("GET", "/api/v1/barrios"),
    who ? api("GET", "/api/v1/projects") : Promise.resolve({ ok: false }),
  ]);
  page.types = types.ok ? types.body : [];
  page.projects = projects.ok ? projects.body : [];
  const units = barrios.ok ? barrios.body.features.map((f) => f.properties) : [];
  if (!$("#filtro-estado").options.length) fillFilters(page.types, units);
  await loadList();
  const wanted = location.hash.slice(1);
  if (who && /^[0-9a-f-]{36}$/.test(wanted)) {
    page.selected = wanted;
    await view.open(wanted);
  }
  else if (!who) $("#detalle").hidden = true;
}

$("#form-filtros").addEventListener("submit", async (event) => {
  event.preventDefault();
  setReady(false);
  await loadList();
  setReady();
});
setupAccess(start);
