/**
 * /unidad: a responsible unit's queue (lighting, parks, works...). What is routed to the unit,
 * overdue first, then by due date; take a report (en gestión) and resolve it with a note and a
 * photo of the work done. The API shows a unit key only what is routed to its unit.
 */
import {
  $,
  actionForm,
  api,
  el,
  field,
  preparePhoto,
  problemMessage,
  reportItem,
  reportView,
  setReady,
  setupAccess,
  transition,
} from "/static/trabajo/comun.js";

const page = { who: null, selected: null };

const view = reportView({ section: $("#detalle"), actionsFor, onChanged: () => loadQueue() });

/** Overdue first, then the nearest due date: the order a crew should work in. */
function byUrgency(a, b) {
  const pa = a.properties;
  const pb = b.properties;
  if (pa.overdue !== pb.overdue) return pa.overdue ? -1 : 1;
  return new Date(pa.due_at) - new Date(pb.due_at);
}

async function loadQueue() {
  const list = $("#informes");
  const summary = $("#resumen-lista");
  if (!page.who) {
    list.replaceChildren();
    summary.textContent = "Ingrese la clave de su unidad para ver su cola.";
    return;
  }
  const params = new URLSearchParams({ limit: "500" });
  const statuses = ["derivado", "en_gestion", ...($("#filtro-resueltos").checked ? ["resuelto"] : [])];
  for (const s of statuses) params.append("status", s);
  if (page.who.role === "unit" && page.who.unit) params.set("unit", page.who.unit);
  const res = await api("GET", "/api/v1/risk-factors?" + params);
  if (!res.ok) {
    list.replaceChildren();
    summary.textContent = problemMessage(res);
    summary.classList.add("error");
    return;
  }
  summary.classList.remove("error");
  const open = res.body.features.filter((f) => f.properties.status !== "resuelto").sort(byUrgency);
  const done = res.body.features.filter((f) => f.properties.status === "resuelto");
  const overdue = open.filter((f) => f.properties.overdue).length;
  summary.textContent = `${open.length} pendiente${open.length === 1 ? "" : "s"}` +
    (overdue ? `, ${overdue} vencido${overdue === 1 ? "" : "s"}` : "") +
    (done.length ? `; ${done.length} resuelto${done.length === 1 ? "" : "s"}` : "") + ".";
  list.replaceChildren(...[...open, ...done].map((f) => reportItem(f, page.selected, (id) => {
    page.selected = id;
    view.open(id);
  })));
}

async function uploadPhoto(report, file) {
  const form = new FormData();
  form.append("file", await preparePhoto(file));
  return api("POST", `/api/v1/risk-factors/${report.id}/photos`, { form });
}

function actionsFor(report, act) {
  if (report.status === "derivado") {
    return [actionForm({
      title: "Tomar el informe", open: true,
      fields: field("Nota (opcional)", "textarea", { name: "note", maxLength: 2000 }),
      button: "Tomar (en gestión)",
      onSubmit: (data) => act((r, etag) => transition(r, etag, { to: "en_gestion",
        note: (data.get("note") || "").trim() || undefined }), "Informe en gestión por su unidad."),
    })];
  }
  if (report.status === "en_gestion") {
    return [actionForm({
      title: "Resolver", open: true,
      fields: [
        ...field("Qué se hizo", "textarea", { name: "note", maxLength: 2000, required: true }),
        ...field("Foto del trabajo terminado", "input", { name: "photo", type: "file",
          accept: "image/jpeg,image/png,image/webp,image/*", capture: "environment" }),
      ],
      button: "Marcar resuelto",
      onSubmit: (data) => act(async (r, etag) => {
        // the change first (If-Match): a stale tag stops here, before any photo is stored
        const moved = await transition(r, etag, { to: "resuelto", note: data.get("note").trim() });
        const photo = data.get("photo");
        if (!moved.ok || !photo || !photo.size) return moved;
        const added = await uploadPhoto(r, photo);
        if (added.ok) return moved;
        return { ...moved, warning: "Informe resuelto, pero la foto no se guardó: " + problemMessage(added) };
      }, "Informe resuelto."),
    })];
  }
  if (report.status === "resuelto") {
    return [el("p", { className: "nota" }, "Resuelto. Si el problema vuelve, seguridad municipal lo reabre.")];
  }
  return [el("p", { className: "nota" }, "Este informe ya no está en la cola de su unidad.")];
}

async function start(who) {
  page.who = who;
  if (who && who.role !== "unit") {
    $("#estado-acceso").append(" Esta cola es para claves de una unidad responsable; con esta clave " +
      "verá todos los informes derivados.");
  }
  await loadQueue();
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
  await loadQueue();
  setReady();
});
setupAccess(start);
