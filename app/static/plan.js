/* /plan: every goal of the plan with its indicator, value, target and a traffic light
 * (colour and word, so it reads without colour too). */
"use strict";

(() => {
  const { $, api, showProblem, cell, setupAccess } = window.VigiaPlan;
  const LIGHT = { verde: "cumplida", amarillo: "en camino", rojo: "atrasada", gris: "sin dato" };

  async function load(year) {
    const result = await api(`/api/v1/plan/dashboard?year=${year}`);
    if (!result.ok) {
      showProblem($("periodo"), result);
      return;
    }
    const d = result.body;
    $("periodo").textContent = `${d.plan} · ${d.period_label} · ${d.goals} metas${d.proposed ? " · indicadores propuestos, pendientes de aprobación del Consejo" : ""}`;
    const counts = { verde: 0, amarillo: 0, rojo: 0, gris: 0 };
    for (const r of d.rows) counts[r.light] += 1;
    const summary = $("resumen");
    summary.textContent = "";
    for (const [light, label] of Object.entries(LIGHT)) {
      const box = document.createElement("div");
      const strong = document.createElement("strong");
      strong.textContent = counts[light];
      box.appendChild(strong);
      const span = document.createElement("span");
      span.className = `semaforo ${light}`;
      span.textContent = label;
      box.appendChild(span);
      summary.appendChild(box);
    }
    const body = $("tabla-plan");
    body.textContent = "";
    let objective = null;
    for (const r of d.rows) {
      if (r.objective !== objective) {
        objective = r.objective;
        const head = document.createElement("tr");
        head.className = "objetivo";
        const td = cell(head, `${r.ambito} · Objetivo ${r.objective}`);
        td.colSpan = 6;
        body.appendChild(head);
      }
      const row = document.createElement("tr");
      cell(row, r.goal).title = r.goal_text;
      cell(row, r.indicator).title = r.means_of_verification;
      cell(row, r.value_text, "n");
      cell(row, r.target_text, "n");
      const state = cell(row, "");
      const light = document.createElement("span");
      light.className = `semaforo ${r.light}`;
      light.textContent = LIGHT[r.light];
      state.appendChild(light);
      cell(row, r.source + (r.manual_reason ? " (manual)" : ""));
      body.appendChild(row);
    }
  }

  setupAccess(async () => {
    $("tablero").hidden = false;
    $("anio").value = new Date().getFullYear();
    await load($("anio").value);
  });
  $("form-anio").addEventListener("submit", async (event) => {
    event.preventDefault();
    await load($("anio").value);
  });
})();
