/* /actividades: import a spreadsheet or record one activity (attendance only as counts by
 * sex and age band), and list the year's activities. */
"use strict";

(() => {
  const { $, api, showProblem, note, cell, setupAccess } = window.VigiaPlan;
  const GROUPS = {
    escolares: "Estudiantes", apoderados_docentes: "Apoderados, centros de alumnos y docentes",
    dirigentes: "Dirigentes vecinales y sociales", mujeres: "Mujeres", jefas_hogar: "Mujeres jefas de hogar",
    nna: "Niños, niñas y adolescentes", comunidad: "Comunidad en general", instituciones: "Instituciones de la red",
  };
  const SEXES = { mujeres: "Mujeres", hombres: "Hombres" };
  const BANDS = { "0_13": "0-13", "14_17": "14-17", "18_29": "18-29", "30_59": "30-59", "60_mas": "60+" };
  let kinds = {};
  let canWrite = false;

  function evidenceCell(row, activity) {
    const td = cell(row, activity.evidence_sha256 ? "guardada" : (canWrite ? "" : "—"));
    if (activity.evidence_sha256 || !canWrite) return;
    const input = document.createElement("input");
    input.type = "file";
    input.accept = "application/pdf,image/png,image/jpeg";
    input.setAttribute("aria-label", `Evidencia de la actividad del ${activity.held_on} en ${activity.place}`);
    input.addEventListener("change", async () => {
      const data = new FormData();
      data.append("file", input.files[0]);
      const result = await api(`/api/v1/activities/${activity.id}/evidence`, { method: "PUT", body: data });
      if (!result.ok) showProblem($("resultado-evidencia"), result);
      else {
        note($("resultado-evidencia"), "Evidencia guardada.", "ok");
        await loadList();
      }
    });
    td.appendChild(input);
  }

  function option(select, value, text) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }

  function renderCounts() {
    const box = $("conteos");
    for (const [sex, sexLabel] of Object.entries(SEXES)) {
      for (const [band, bandLabel] of Object.entries(BANDS)) {
        const label = document.createElement("label");
        const name = `${sex}_${band}`;
        label.htmlFor = `c-${name}`;
        label.textContent = `${sexLabel} ${bandLabel}`;
        const input = document.createElement("input");
        input.type = "number";
        input.min = "0";
        input.step = "1";
        input.value = "0";
        input.id = `c-${name}`;
        input.dataset.column = name;
        label.appendChild(input);
        box.appendChild(label);
      }
    }
  }

  async function importSheet(event) {
    event.preventDefault();
    const file = $("planilla").files[0];
    if (!file) {
      note($("resultado-importar"), "Elija una planilla CSV o XLSX.", "error");
      return;
    }
    const data = new FormData();
    data.append("file", file);
    const mode = encodeURIComponent($("modo").value);
    const result = await api(`/api/v1/activities/import?mode=${mode}`, { method: "POST", body: data });
    if (!result.ok) {
      showProblem($("resultado-importar"), result);
      return;
    }
    const r = result.body;
    if (r.rejected) showProblem($("resultado-importar"), { status: 200, body: { detail: `${r.inserted} actividad(es) importada(s); ${r.rejected} fila(s) omitida(s):`, errors: r.errors } });
    else note($("resultado-importar"), `${r.inserted} actividad(es) importada(s) de ${r.rows} fila(s).`, "ok");
    await loadList();
  }

  async function saveActivity(event) {
    event.preventDefault();
    const body = {
      held_on: $("a-fecha").value,
      kind: $("a-tipo").value,
      status: $("a-estado").value,
      place: $("a-lugar").value.trim(),
      target_group: $("a-grupo").value,
      institution: $("a-institucion").value.trim(),
    };
    if ($("a-barrio").value) body.barrio = $("a-barrio").value;
    for (const input of document.querySelectorAll("#conteos input")) {
      body[input.dataset.column] = Number(input.value || 0);
    }
    const result = await api("/api/v1/activities", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!result.ok) {
      showProblem($("resultado-actividad"), result);
      return;
    }
    note($("resultado-actividad"), `Actividad guardada (meta ${result.body.goal}, ${result.body.attendance_total} asistentes).`, "ok");
    await loadList();
  }

  async function loadList() {
    const year = new Date().getFullYear();
    const result = await api(`/api/v1/activities?year=${year}`);
    const body = $("tabla-actividades");
    body.textContent = "";
    for (const a of result.body || []) {
      const row = document.createElement("tr");
      cell(row, a.held_on);
      cell(row, a.goal);
      cell(row, a.kind_label);
      cell(row, a.place);
      cell(row, a.barrio);
      cell(row, a.status);
      cell(row, a.attendance_total, "n");
      evidenceCell(row, a);
      body.appendChild(row);
    }
  }

  setupAccess(async (me) => {
    const listed = await api("/api/v1/activities/kinds");
    if (!listed.ok) {
      showProblem($("estado-acceso"), listed);
      return;
    }
    $("lista").hidden = false;
    canWrite = me.role === "admin";
    if (canWrite) {
      kinds = Object.fromEntries(listed.body.map((k) => [k.code, k]));
      for (const k of listed.body) option($("a-tipo"), k.code, `${k.goal} · ${k.label}`);
      for (const [code, text] of Object.entries(GROUPS)) option($("a-grupo"), code, text);
      const barrios = await api("/api/v1/barrios");
      for (const f of (barrios.body && barrios.body.features) || []) {
        option($("a-barrio"), f.properties.code, `${f.properties.code} · ${f.properties.name}`);
      }
      renderCounts();
      $("importar").hidden = false;
    }
    await loadList();
  });
  $("form-importar").addEventListener("submit", importSheet);
  $("form-actividad").addEventListener("submit", saveActivity);
})();
