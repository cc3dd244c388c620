/* Shared by /consejo, /actividades and /plan: the access key (the same sessionStorage entry
 * as the map, "vigia.clave", sent as "Authorization: Bearer ..."), calls to the API and
 * problem+json messages in Spanish. No build step, no libraries. */
"use strict";

window.VigiaPlan = (() => {
  const KEY_STORAGE = "vigia.clave";
  const $ = (id) => document.getElementById(id);

  function key() {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  }

  async function api(path, options = {}) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (key()) headers.Authorization = "Bearer " + key();
    const response = await fetch(path, { ...options, headers });
    let body = null;
    const type = response.headers.get("content-type") || "";
    if (type.includes("json")) body = await response.json();
    return { ok: response.ok, status: response.status, body };
  }

  function problemText(result) {
    const body = result.body || {};
    return body.detail || body.title || `Error ${result.status}`;
  }

  function showProblem(element, result) {
    element.textContent = "";
    const head = document.createElement("p");
    head.className = "error";
    head.textContent = problemText(result);
    element.appendChild(head);
    const errors = (result.body && result.body.errors) || [];
    if (errors.length) {
      const list = document.createElement("ul");
      list.className = "problemas";
      for (const e of errors.slice(0, 50)) {
        const item = document.createElement("li");
        const where = e.row ? `fila ${e.row}, ` : "";
        item.textContent = `${where}${e.field}: ${e.reason}`;
        list.appendChild(item);
      }
      element.appendChild(list);
    }
  }

  function note(element, text, kind) {
    element.textContent = text;
    element.className = kind || "";
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  /* The key form at the top of every page; `onReady` runs when a key is accepted. */
  function setupAccess(onReady) {
    const state = $("estado-acceso");
    async function check() {
      if (!key()) {
        note(state, "Escriba su clave de acceso (rol admin para registrar; planner para consultar).", "");
        $("salir").hidden = true;
        return;
      }
      const me = await api("/api/v1/me");
      if (!me.ok) {
        sessionStorage.removeItem(KEY_STORAGE);
        note(state, "Clave rechazada: " + problemText(me), "error");
        return;
      }
      note(state, `Conectado: ${me.body.key_name || ""} (${me.body.role}, ${me.body.institution}).`, "ok");
      $("salir").hidden = false;
      await onReady(me.body);
    }
    $("form-clave").addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = $("clave").value.trim();
      if (value) sessionStorage.setItem(KEY_STORAGE, value);
      $("clave").value = "";
      await check();
    });
    $("salir").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORAGE);
      window.location.reload();
    });
    return check();
  }

  return { $, api, key, problemText, showProblem, note, cell, setupAccess };
})();
