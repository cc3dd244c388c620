/**
 * /proyectos: intervention projects (lighting, recovered public spaces, community alarms...).
 * The list, a form to create one, and a project's detail: its status, the risk factors it
 * resolves (linked with If-Match on each report), and its evaluation as the API gives it.
 */
import {
  $,
  OPEN_STATUSES,
  STATUS_LABELS,
  api,
  el,
  field,
  formatDate,
  overdueBadge,
  problemMessage,
  setReady,
  setupAccess,
  statusBadge,
} from "/static/trabajo/comun.js";

const TYPOLOGIES = {
  IL: "Iluminación",
  REP: "Recuperación de espacios públicos",
  AC: "Alarmas comunitarias",
  EQUIP: "Equipamiento",
  CTV: "Televigilancia",
};
const PROJECT_STATUS = {
  planificado: "Planificado",
  en_ejecucion: "En ejecución",
  terminado: "Terminado",
  cancelado: "Cancelado",
};
const page = { who: null, barrios: [], selected: null };
const money = new Intl.NumberFormat("es-CL", { style: "currency", currency: "CLP", maximumFractionDigits: 0 });

function message(box, res, ok) {
  box.classList.toggle("error", !res.ok);
  box.setAttribute("role", res.ok ? "status" : "alert");
  box.textContent = res.ok ? ok : problemMessage(res);
}

// --- the list and the form ------------------------------------------------------------------

async function loadList() {
  const list = $("#proyectos");
  const summary = $("#resumen-lista");
  if (!page.who) {
    list.replaceChildren();
    summary.textContent = "Ingrese una clave para ver los proyectos.";
    return;
  }
  const res = await api("GET", "/api/v1/projects");
  if (!res.ok) {
    summary.textContent = problemMessage(res);
    return;
  }
  summary.textContent = res.body.length
    ? `${res.body.length} proyecto${res.body.length === 1 ? "" : "s"}.`
    : "Todavía no hay proyectos.";
  list.replaceChildren(...res.body.map((p) => {
    const button = el("button", { type: "button", className: "item", "data-id": String(p.id),
      "aria-pressed": String(p.id === page.selected) },
      el("span", { className: "titulo" }, `n.º ${p.id} · ${p.name}`),
      el("span", { className: "datos" }, el("span", { className: "etiqueta" }, PROJECT_STATUS[p.status]),
        ` ${TYPOLOGIES[p.typology] || p.typology} · ${p.factors.length} factor` +
        `${p.factors.length === 1 ? "" : "es"} · barrios ${p.barrios.join(", ") || "—"}`));
    button.addEventListener("click", () => show(p.id));
    return el("li", {}, button);
  }));
}

function fillForm(barrios) {
  $("#p-tipologia").replaceChildren(...Object.entries(TYPOLOGIES).map(([v, l]) => el("option", { value: v }, l)));
  $("#p-estado").replaceChildren(...Object.entries(PROJECT_STATUS).map(([v, l]) => el("option", { value: v }, l)));
  $("#p-barrios-lista").replaceChildren(...barrios.map((b) =>
    el("label", {}, el("input", { type: "checkbox", name: "barrios", value: b.code }), `${b.name} (${b.code})`)));
}

async function create(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const comuna = page.barrios[0]?.comuna;
  const body = {
    comuna,
    name: data.get("name").trim(),
    typology: data.get("typology"),
    status: data.get("status"),
    barrios: data.getAll("barrios"),
  };
  for (const name of ["start_date", "end_date"]) if (data.get(name)) body[name] = data.get(name);
  if (data.get("budget_clp")) body.budget_clp = Number(data.get("budget_clp"));
  setReady(false);
  const res = await api("POST", "/api/v1/projects", { body });
  message($("#resultado-proyecto"), res, res.ok ? `Proyecto n.º ${res.body.id} creado.` : "");
  if (res.ok) {
    form.reset();
    await loadList();
    await show(res.body.id);
  }
  setReady();
}

// --- one project ----------------------------------------------------------------------------

function facts(p) {
  const rows = [
    ["Número", String(p.id)],
    ["Comuna", p.comuna],
    ["Tipología", TYPOLOGIES[p.typology] || p.typology],
    ["Estado", PROJECT_STATUS[p.status] || p.status],
    ["Barrios", p.barrios.join(", ") || "—"],
    ["Inicio", p.start_date || "—"],
    ["Término", p.end_date || "—"],
    ["Presupuesto", p.budget_clp === null ? "—" : money.format(Number(p.budget_clp))],
    ["Factores por estado", Object.entries(p.factors_by_status)
      .map(([s, n]) => `${STATUS_LABELS[s] || s}: ${n}`).join(" · ") || "—"],
  ];
  return el("dl", {}, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function statusForm(p, box) {
  const form = el("form", { className: "fila" },
    el("div", {}, ...field("Cambiar el estado", "select", { name: "status" },
      Object.entries(PROJECT_STATUS).map(([v, l]) => el("option", { value: v, selected: v === p.status }, l)))),
    el("button", { type: "submit" }, "Guardar estado"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = new FormData(form).get("status");
    const res = await api("PATCH", `/api/v1/projects/${p.id}`, { body: { status } });
    await show(p.id, res, `Estado: ${PROJECT_STATUS[status]}.`);
  });
  return form;
}

/** Link or unlink a report: read it for its ETag, then PATCH with If-Match. */
async function setProject(reportId, projectId) {
  const read = await api("GET", `/api/v1/risk-factors/${reportId}`);
  if (!read.ok) return read;
  return api("PATCH", `/api/v1/risk-factors/${reportId}`, { body: { project_id: projectId }, etag: read.etag });
}

function factorTable(p) {
  if (!p.factors.length) return el("p", { className: "nota" }, "Ningún factor asociado todavía.");
  return el("div", { className: "tabla" }, el("table", {},
    el("thead", {}, el("tr", {}, ["Factor", "Estado", "Barrio", ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, p.factors.map((f) => {
      // unlinking, like linking, is municipal security's (admin keys)
      const remove = page.who.role !== "admin" ? "" : el("button", { type: "button",
        className: "secundario", "aria-label": `Quitar el factor ${f.id.slice(0, 8)} del proyecto` },
      "Quitar");
      if (remove) {
        remove.addEventListener("click", async () => {
          const res = await setProject(f.id, null);
          await show(p.id, res, "Factor quitado del proyecto.");
        });
      }
      return el("tr", { "data-id": f.id },
        el("td", {}, el("a", { href: "/bandeja#" + f.id }, f.type.replaceAll("_", " ")), " ", f.id.slice(0, 8)),
        el("td", {}, statusBadge(f.status), " ", overdueBadge(f.overdue)),
        el("td", {}, f.barrio || "—"),
        el("td", {}, remove));
    }))));
}

async function linkForm(p) {
  const params = new URLSearchParams({ limit: "500", comuna: p.comuna });
  for (const s of OPEN_STATUSES) params.append("status", s);
  const res = await api("GET", "/api/v1/risk-factors?" + params);
  if (!res.ok) return el("p", { className: "nota" }, problemMessage(res));
  const linked = new Set(p.factors.map((f) => f.id));
  // the project's own barrios first: that is where its factors usually are
  const inBarrios = (f) => (p.barrios.includes(f.properties.barrio) ? 0 : 1);
  const candidates = res.body.features.filter((f) => !linked.has(f.id))
    .sort((a, b) => inBarrios(a) - inBarrios(b));
  if (!candidates.length) return el("p", { className: "nota" }, "No hay factores abiertos sin asociar.");
  const form = el("form", {},
    ...field("Factor abierto", "select", { name: "report", required: true },
      candidates.map((f) => el("option", { value: f.id },
        `${f.properties.type_label} · barrio ${f.properties.barrio || "—"} · ` +
        `${STATUS_LABELS[f.properties.status]} · ${formatDate(f.properties.received_at)} · ${f.id.slice(0, 8)}`))),
    el("button", { type: "submit" }, "Asociar al proyecto"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = new FormData(form).get("report");
    const linkedRes = await setProject(id, p.id);
    await show(p.id, linkedRes, "Factor asociado al proyecto.");
  });
  return form;
}

// names for the evaluation's fields known today; a field added later shows with its own name
const EVALUATION_FIELDS = {
  event_at: "Inicio de la ventana posterior",
  radius_m: "Radio (m)",
  window_days: "Días de cada ventana",
  window_shortened: "Ventana acortada (proyecto reciente)",
  family: "Familia de delitos",
  treated_before: "Denuncias cerca, antes",
  treated_after: "Denuncias cerca, después",
  comparison_units: "Áreas de comparación",
  comparison_before: "Comparación, antes",
  comparison_after: "Comparación, después",
  expected_after: "Esperadas después (según la comparación)",
  relative_effect: "Efecto relativo",
  interval: "Intervalo aproximado de 95 %",
  as_of: "Calculada",
};
const LEAD = ["verdict", "summary", "caveat"];
const SKIP = ["subject", "subject_id", "name"];

function evaluationValue(value) {
  if (typeof value === "boolean") return value ? "sí" : "no";
  if (typeof value === "number") return value.toLocaleString("es-CL");
  if (Array.isArray(value)) return value.map(evaluationValue).join(", ");
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) return formatDate(value);
  return String(value);
}

/** Whatever the evaluation endpoint answers: its verdict and summary if it has them, the rest
 * as plain facts, or the problem in words. */
function evaluation(res) {
  if (!res.ok) return el("p", { className: "mensaje error", role: "alert" }, problemMessage(res));
  const body = res.body || {};
  const plain = (v) => v !== null && (typeof v !== "object" || Array.isArray(v));
  const rest = Object.entries(body).filter(([k, v]) => !LEAD.includes(k) && !SKIP.includes(k) && plain(v));
  return el("div", { className: "evaluacion" },
    typeof body.verdict === "string" ? el("p", {}, el("strong", {}, body.verdict)) : null,
    typeof body.summary === "string" ? el("p", {}, body.summary) : null,
    typeof body.caveat === "string" ? el("p", { className: "nota" }, body.caveat) : null,
    el("dl", {}, rest.flatMap(([k, v]) => [el("dt", {}, EVALUATION_FIELDS[k] || k.replaceAll("_", " ")),
      el("dd", {}, evaluationValue(v))])));
}

async function show(id, result, done) {
  setReady(false);
  page.selected = id;
  for (const b of document.querySelectorAll("#proyectos button.item")) {
    b.setAttribute("aria-pressed", String(b.dataset.id === String(id)));
  }
  const section = $("#detalle");
  const content = $("#detalle-contenido");
  section.hidden = false;
  const res = await api("GET", `/api/v1/projects/${id}`);
  if (!res.ok) {
    content.replaceChildren(el("p", { className: "mensaje error", role: "alert" }, problemMessage(res)));
    setReady();
    return;
  }
  const p = res.body;
  $("#titulo-detalle").textContent = p.name;
  const note = el("p", { id: "mensaje-proyecto", className: "mensaje" });
  if (result) message(note, result, done);
  const evalBox = el("div", { id: "evaluacion" });
  const evalButton = el("button", { type: "button", className: "secundario" }, "Ver la evaluación");
  evalButton.addEventListener("click", async () => {
    setReady(false);
    evalBox.replaceChildren(evaluation(await api("GET", `/api/v1/projects/${p.id}/evaluation`)));
    setReady();
  });
  content.replaceChildren(
    note,
    facts(p),
    statusForm(p),
    el("h3", {}, "Factores de riesgo que resuelve"),
    factorTable(p),
    el("h3", {}, "Asociar un factor"),
    page.who.role === "admin" ? await linkForm(p)
      : el("p", { className: "nota" }, "Asociar factores a un proyecto es de seguridad municipal (clave con rol admin)."),
    el("h3", {}, "Evaluación"),
    el("p", { className: "nota" }, "Denuncias antes y después del término del proyecto, frente a áreas de comparación."),
    evalButton,
    evalBox,
  );
  content.dataset.id = String(p.id);
  history.replaceState(null, "", "#" + p.id);
  if (result) await loadList();
  setReady();
}

async function start(who) {
  page.who = who;
  if (!page.barrios.length) {
    const barrios = await api("GET", "/api/v1/barrios");
    page.barrios = barrios.ok ? barrios.body.features.map((f) => f.properties) : [];
    fillForm(page.barrios);
  }
  $("#nuevo-proyecto").hidden = !who;
  await loadList();
  const wanted = Number(location.hash.slice(1));
  if (who && wanted) await show(wanted);
  else if (!who) $("#detalle").hidden = true;
}

$("#form-proyecto").addEventListener("submit", create);
setupAccess(start);
