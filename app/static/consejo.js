/* /consejo: the executive secretary records a session (attendance per seat, agreements),
 * follows agreements up and stores minutes; planners see the same lists read-only. */
"use strict";

(() => {
  const { $, api, showProblem, note, cell, setupAccess } = window.VigiaPlan;
  const STATUS = { pendiente: "Pendiente", en_curso: "En curso", cumplido: "Cumplido", descartado: "Descartado" };
  let seats = [];
  let canWrite = false;
  let counter = 0;

  // today in Chile's civil time, as the service counts it (app/timezone.py): a browser in
  // another zone (UTC after 21:00 in Chile) would otherwise propose tomorrow, a future date
  function today() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "America/Santiago" }).format(new Date());
  }

  function updateQuorum() {
    const present = document.querySelectorAll("#asientos input:checked").length;
    const needed = Math.floor(seats.length / 2) + 1;
    $("quorum").textContent = `${present} de ${seats.length} presentes; quórum: ${needed} (${present >= needed ? "hay quórum" : "sin quórum"}).`;
  }

  function renderSeats() {
    const box = $("asientos");
    box.textContent = "";
    for (const s of seats) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = s.seat;
      input.name = "presente";
      input.addEventListener("change", updateQuorum);
      label.appendChild(input);
      label.appendChild(document.createTextNode(s.label + (s.representative ? ` (${s.representative})` : "")));
      box.appendChild(label);
    }
    updateQuorum();
  }

  function addAgreementRow() {
    counter += 1;
    const row = document.createElement("div");
    row.className = "compromiso";
    row.innerHTML = `
      <label>Compromiso <input name="texto" id="texto-${counter}" required></label>
      <label>Institución responsable <input name="responsable" id="responsable-${counter}" required></label>
      <label>Plazo <input name="plazo" id="plazo-${counter}" type="date" required></label>
      <button type="button" class="secundario" aria-label="Quitar compromiso">Quitar</button>`;
    row.querySelector("button").addEventListener("click", () => row.remove());
    $("compromisos").appendChild(row);
  }

  async function saveSession(event) {
    event.preventDefault();
    const body = {
      held_on: $("fecha").value,
      kind: $("tipo").value,
      present: [...document.querySelectorAll("#asientos input:checked")].map((i) => i.value),
      agreements: [...document.querySelectorAll("#compromisos .compromiso")].map((row) => ({
        text: row.querySelector('[name="texto"]').value.trim(),
        responsible_institution: row.querySelector('[name="responsable"]').value.trim(),
        due_on: row.querySelector('[name="plazo"]').value,
      })),
    };
    const result = await api("/api/v1/council/sessions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!result.ok) {
      showProblem($("resultado-sesion"), result);
      return;
    }
    const s = result.body;
    note($("resultado-sesion"), `Sesión del ${s.held_on} guardada: ${s.present_count} de ${s.seat_count} presentes, ${s.quorum ? "con" : "sin"} quórum, ${s.agreements.length} compromiso(s).`, "ok");
    $("compromisos").textContent = "";
    await loadLists();
  }

  function followUpCell(row, agreement) {
    const td = document.createElement("td");
    if (!canWrite || agreement.status === "cumplido" || agreement.status === "descartado") {
      td.textContent = agreement.follow_ups.map((f) => f.note).join(" · ") || "—";
      row.appendChild(td);
      return;
    }
    const form = document.createElement("form");
    form.className = "seguimiento";
    const id = `nota-${agreement.id}`;
    form.innerHTML = `
      <label for="${id}">Nota</label> <input id="${id}" required>
      <label for="estado-${agreement.id}">Estado</label>
      <select id="estado-${agreement.id}">
        <option value="en_curso">En curso</option><option value="cumplido">Cumplido</option>
        <option value="descartado">Descartado</option>
      </select>
      <button type="submit">Registrar</button>`;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const result = await api(`/api/v1/council/agreements/${agreement.id}/follow-ups`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ note: $(id).value.trim(), status: $(`estado-${agreement.id}`).value }),
      });
      if (!result.ok) showProblem($("resultado-seguimiento"), result);
      else {
        note($("resultado-seguimiento"), "Seguimiento registrado.", "ok");
        await loadLists();
      }
    });
    td.appendChild(form);
    row.appendChild(td);
  }

  function minutesCell(row, session) {
    const td = document.createElement("td");
    if (session.minutes) {
      const link = document.createElement("span");
      link.textContent = `${session.minutes.name} (guardada)`;
      td.appendChild(link);
    } else if (canWrite) {
      const input = document.createElement("input");
      input.type = "file";
      input.accept = "application/pdf,image/png,image/jpeg";
      input.setAttribute("aria-label", `Acta de la sesión del ${session.held_on}`);
      input.addEventListener("change", async () => {
        const data = new FormData();
        data.append("file", input.files[0]);
        const result = await api(`/api/v1/council/sessions/${session.id}/minutes`, { method: "PUT", body: data });
        if (!result.ok) showProblem($("resultado-acta"), result);
        else await loadLists();
      });
      td.appendChild(input);
    } else td.textContent = "—";
    row.appendChild(td);
  }

  async function showAgenda(session) {
    const result = await api(`/api/v1/council/sessions/${session.id}/agenda`);
    const box = $("tabla-sesion");
    if (!result.ok) {
      showProblem(box, result);
      return;
    }
    box.textContent = "";
    const title = document.createElement("h3");
    title.textContent = `Tabla de la sesión del ${session.held_on}: compromisos por revisar`;
    box.appendChild(title);
    const list = document.createElement("ul");
    for (const a of result.body.due) {
      const item = document.createElement("li");
      item.textContent = `${a.text} — ${a.responsible_institution}, plazo ${a.due_on}${a.overdue ? " (vencido)" : ""}`;
      list.appendChild(item);
    }
    if (!result.body.due.length) {
      const item = document.createElement("li");
      item.textContent = "Sin compromisos anteriores abiertos que venzan antes de la próxima sesión.";
      list.appendChild(item);
    }
    box.appendChild(list);
  }

  async function loadLists() {
    const [agreements, sessions] = await Promise.all([
      api("/api/v1/council/agreements"),
      api("/api/v1/council/sessions"),
    ]);
    const body = $("tabla-compromisos");
    body.textContent = "";
    for (const a of agreements.body || []) {
      const row = document.createElement("tr");
      cell(row, a.text);
      cell(row, a.responsible_institution);
      cell(row, a.due_on);
      cell(row, STATUS[a.status] + (a.overdue ? " (vencido)" : ""), a.overdue ? "error" : "");
      followUpCell(row, a);
      body.appendChild(row);
    }
    const list = $("tabla-sesiones");
    list.textContent = "";
    for (const s of sessions.body || []) {
      const row = document.createElement("tr");
      cell(row, s.held_on);
      cell(row, s.kind);
      cell(row, `${s.present_count} de ${s.seat_count}`, "n");
      cell(row, s.quorum ? "sí" : "no");
      cell(row, s.agreements.length, "n");
      minutesCell(row, s);
      const agenda = document.createElement("button");
      agenda.type = "button";
      agenda.className = "secundario";
      agenda.textContent = "Tabla";
      agenda.setAttribute("aria-label", `Tabla de la sesión del ${s.held_on}`);
      agenda.addEventListener("click", () => showAgenda(s));
      cell(row, "").appendChild(agenda);
      list.appendChild(row);
    }
  }

  function renderMembers() {
    const select = $("asiento");
    select.textContent = "";
    for (const s of seats) {
      const o = document.createElement("option");
      o.value = s.seat;
      o.textContent = s.label + (s.representative ? ` — ${s.representative}` : " — (sin designar)");
      select.appendChild(o);
    }
  }

  async function saveMember(event) {
    event.preventDefault();
    const seat = encodeURIComponent($("asiento").value);
    const result = await api(`/api/v1/council/seats/${seat}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ representative: $("representante").value.trim() }),
    });
    if (!result.ok) {
      showProblem($("resultado-integrante"), result);
      return;
    }
    seats = result.body;
    note($("resultado-integrante"), "Integrante guardado.", "ok");
    $("representante").value = "";
    renderMembers();
    renderSeats();
  }

  setupAccess(async (me) => {
    canWrite = me.role === "admin";
    const result = await api("/api/v1/council/seats");
    if (!result.ok) {
      showProblem($("estado-acceso"), result);
      return;
    }
    seats = result.body;
    $("consultar").hidden = false;
    if (canWrite) {
      $("registrar").hidden = false;
      $("fecha").value = today();
      renderSeats();
      $("integrantes").hidden = false;
      renderMembers();
    }
    await loadLists();
  });
  $("agregar-compromiso").addEventListener("click", addAgreementRow);
  $("form-integrante").addEventListener("submit", saveMember);
  $("form-sesion").addEventListener("submit", saveSession);
})();
