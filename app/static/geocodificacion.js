/* Review queue of complaints that arrived as an address the local geocoder could not place
 * (GET /api/v1/complaints/unplaced): each one's candidates on the map, and a placement by
 * choosing one or clicking the map (POST /api/v1/complaints/{id}/placement, audited).
 * The key is the map's (sessionStorage "vigia.clave"). No inline script (the CSP forbids it). */
(function () {
  "use strict";
  const KEY_STORAGE = "vigia.clave";
  const $ = (id) => document.getElementById(id);
  const state = { key: sessionStorage.getItem(KEY_STORAGE) || "", items: [], current: null, point: null };
  const map = L.map("mapa", { zoomControl: true }).setView([-39.4515, -72.776], 14);
  const layer = L.layerGroup().addTo(map);
  let chosen = null;

  function el(tag, props, ...children) {
    const node = Object.assign(document.createElement(tag), props || {});
    for (const child of children) node.append(child);
    return node;
  }

  function say(text, kind) {
    const node = $("estado");
    node.textContent = text;
    node.className = "nota" + (kind ? " " + kind : "");
  }

  async function api(path, options) {
    const headers = Object.assign({ Authorization: "Bearer " + state.key }, (options || {}).headers);
    const response = await fetch(path, Object.assign({}, options, { headers, credentials: "omit" }));
    const body = response.headers.get("content-type") || "";
    const data = body.includes("json") ? await response.json() : null;
    if (!response.ok) {
      const detail = data && data.detail ? data.detail : "Error " + response.status;
      throw new Error(detail);
    }
    return data;
  }

  async function setup() {
    try {
      const config = await (await fetch("/api/v1/map-config")).json();
      if (config.basemap) {
        L.tileLayer(config.basemap.url, { attribution: config.basemap.attribution, maxZoom: config.basemap.max_zoom }).addTo(map);
      }
      const barrios = await (await fetch("/api/v1/barrios")).json();
      L.geoJSON(barrios, { style: { color: "#5b6b7a", weight: 1, fill: false }, interactive: false }).addTo(map);
    } catch (error) {
      /* the map still works without its background */
    }
    if (state.key) {
      loadQueue();
      drawStreets();
    }
    else say("Ingrese una clave de policía o de administración.", "aviso");
  }

  let streets = null;
  async function drawStreets() {
    if (streets) return;
    try {
      const lines = await api("/api/v1/gazetteer/streets");
      streets = L.geoJSON(lines, { style: { color: "#8a96a3", weight: 2 }, interactive: false }).addTo(map);
      streets.bringToBack();
      if (lines.features.length) map.fitBounds(streets.getBounds());
    } catch (error) {
      /* no gazetteer yet: the queue still lists what waits */
    }
  }

  async function loadQueue(done) {
    try {
      const page = await api("/api/v1/complaints/unplaced?limit=200");
      state.items = page.items;
      $("total").textContent = "(" + page.total + ")";
      const next = page.total ? "Elija una denuncia de la cola." : "No hay denuncias por ubicar.";
      // what was just done stays on screen, with what comes next
      say(done ? done + " " + next : next, done ? "ok" : "");
      renderQueue();
    } catch (error) {
      say(error.message, "error");
    }
  }

  function renderQueue() {
    const list = $("cola");
    list.replaceChildren();
    for (const item of state.items) {
      const button = el("button", { type: "button", textContent: item.address || "(sin dirección)" });
      button.addEventListener("click", () => select(item));
      const li = el("li", {}, button);
      if (state.current && state.current.id === item.id) li.className = "activa";
      list.append(li);
    }
  }

  function select(item) {
    state.current = item;
    state.point = null;
    $("detalle").hidden = false;
    $("direccion").textContent = item.address || "(sin dirección)";
    $("datos").textContent = `${item.external_ref} · ${item.source} · categoría ${item.category} · ${new Date(item.occurred_at).toLocaleString("es-CL")}`;
    $("buscar").value = item.address || "";
    showCandidates(item.candidates);
    updatePoint();
    renderQueue();
    $("detalle").scrollIntoView({ block: "nearest" });
  }

  function showCandidates(candidates) {
    layer.clearLayers();
    chosen = null;
    const list = $("candidatos");
    list.replaceChildren();
    if (!candidates.length) list.append(el("li", { textContent: "Sin candidatos: haga clic en el mapa." }));
    const bounds = [];
    candidates.forEach((c, index) => {
      const marker = L.circleMarker([c.lat, c.lon], { radius: 8, color: "#b3261e", weight: 2, fillOpacity: 0.4 })
        .bindTooltip(`${index + 1}. ${c.matched} (${c.score.toFixed(2)})`, { permanent: index === 0, className: "etiqueta-candidato" })
        .addTo(layer);
      marker.on("click", () => choose(c.lon, c.lat, c.precision));
      bounds.push([c.lat, c.lon]);
      const button = el("button", { type: "button", textContent: `${c.matched} · ${c.precision} · ${c.score.toFixed(2)}` });
      button.addEventListener("click", () => choose(c.lon, c.lat, c.precision));
      list.append(el("li", {}, button));
    });
    if (bounds.length) map.fitBounds(bounds, { maxZoom: 17, padding: [40, 40] });
  }

  function choose(lon, lat, precision) {
    if (!state.current) return;
    state.point = { lon, lat };
    if (precision) $("precision").value = precision;
    if (chosen) layer.removeLayer(chosen);
    chosen = L.marker([lat, lon], { draggable: true, title: "Punto elegido" }).addTo(layer);
    chosen.on("dragend", () => {
      const p = chosen.getLatLng();
      state.point = { lon: p.lng, lat: p.lat };
      updatePoint();
    });
    updatePoint();
  }

  function updatePoint() {
    const p = state.point;
    $("punto").textContent = p ? `Punto: ${p.lat.toFixed(6)}, ${p.lon.toFixed(6)}` : "Sin punto elegido.";
    $("confirmar").disabled = !p;
  }

  map.on("click", (event) => choose(event.latlng.lng, event.latlng.lat, null));

  $("form-clave").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("clave").value.trim();
    $("clave").value = "";
    if (state.key) sessionStorage.setItem(KEY_STORAGE, state.key);
    loadQueue();
    drawStreets();
  });

  $("form-buscar").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = $("buscar").value.trim();
    if (!q) return;
    try {
      const result = await api("/api/v1/geocode?q=" + encodeURIComponent(q));
      showCandidates(result.candidates);
      say(result.candidates.length ? "Candidatos para «" + q + "»." : "Sin candidatos para «" + q + "».");
    } catch (error) {
      say(error.message, "error");
    }
  });

  $("form-ubicar").addEventListener("submit", async (event) => {
    event.preventDefault();
    const item = state.current;
    const p = state.point;
    if (!item || !p) return;
    try {
      const placed = await api(`/api/v1/complaints/${item.id}/placement`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ lon: p.lon, lat: p.lat, precision: $("precision").value }),
      });
      state.current = null;
      $("detalle").hidden = true;
      layer.clearLayers();
      await loadQueue(`Ubicada en ${placed.barrio || "—"} / ${placed.micro_barrio || "—"}.`);
    } catch (error) {
      say(error.message, "error");
    }
  });

  setup();
})();
