/* Vigía web map: Leaflet + Leaflet.VectorGrid, served by Vigía itself; no build step.
 *
 * Without a key it shows the public layers (barrios, generalised risk-factor feed). A key
 * (kept in sessionStorage, sent as "Authorization: Bearer ...") adds exact complaints and
 * risk factors. The map needs no internet: the basemap is an optional setting.
 *
 * Complaints come from the OGC vector tiles (MVT) of the keyed `complaints` collection: below
 * the server's aggregation zoom each tile holds counts per cell, above it the points, so what
 * the page downloads depends on the view, not on how many complaints there are. The period
 * and category filters go to the tiles as `datetime` and `category`.
 *
 * The first view is one comuna: `?comuna=CUT` in the page's address, or the most populated of
 * the loaded comunas (map-config lists them with their extent; a selector appears when there
 * are several). The view is fitted to that comuna's most populated settlement (its
 * `settled_bbox`, not the whole rural comuna) before anything else arrives, so the complaint
 * tiles start at once and cover that comuna only. The comuna's outline is always drawn and,
 * with no basemap configured, its census blocks (or, without blocks, its micro-barrios) make
 * a light base under everything, drawn once the view's layers are (its tiles do not compete
 * with the first view's requests). Complaints are drawn on one canvas per tile
 * (ComplaintTiles), not one SVG element per point.
 *
 * Start-up runs without serial round trips: the server writes map-config into the page
 * (<script id="mapa-config">), and mapa-inicio.js, evaluated before Leaflet, sends the first
 * view's requests (/me, units, ranking, risk factors, complaint tiles) while Leaflet and this
 * file are still being evaluated; fetch() hands their answers to the code below. With a key,
 * the keyed requests go out in parallel with /me and the server checks the key on each of
 * them. When /me rejects the key, the page drops it and redraws the public layers; when the
 * key's role may not read complaints, the complaint layer is removed. The categories are
 * preloaded by index.html; the complaint counts per unit (shown only in a unit's panel) are
 * read after the first view, off its critical path. A copy of the page without the
 * configuration (/static/index.html) reads /api/v1/map-config instead.
 *
 * For tests and scripts, #mapa carries data-unidades, data-factores and data-denuncias
 * (features drawn; for complaints, the complaints counted in the loaded tiles, with
 * data-puntos and data-celdas: the points and cells drawn; window.vigia.drawnComplaints()
 * gives where they are on screen) and
 * document.body data-estado="listo" once every layer has drawn its first view.
 */
(function () {
  "use strict";

  const API = "/api/v1";
  const KEY_STORAGE = "vigia.clave";
  const COMPLAINT_TILES = "/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}";
  const CHILE = "America/Santiago";
  const TERRAIN_TILES = "/ogc/collections/terreno-de-riesgo/tiles/WebMercatorQuad/{z}/{x}/{y}";
  const BLOCK_TILES = "/ogc/collections/manzanas/tiles/WebMercatorQuad/{z}/{x}/{y}";
  // below this zoom a block is a few pixels: the base is left out (a city's blocks would
  // make heavy tiles for nothing); the comuna outline and the units still show the area
  const BLOCKS_MIN_ZOOM = 12;
  // relative risk of a cell (exp of the retained factors' betas): upper bounds of the classes
  const TERRAIN_CLASSES = [
    { max: 1, label: "1 (ningún factor)", color: null },
    { max: 2, label: "hasta 2 veces", color: "#fdd49e" },
    { max: 4, label: "2 a 4 veces", color: "#fc8d59" },
    { max: Infinity, label: "más de 4 veces", color: "#b30000" },
  ];

  const CLASSES = [
    { key: "crítico", label: "Crítico", color: "#a50f15", text: "#fff" },
    { key: "alto", label: "Alto", color: "#de2d26", text: "#fff" },
    { key: "medio", label: "Medio", color: "#fc9272", text: "#1d2630" },
    { key: "bajo", label: "Bajo", color: "#fee0d2", text: "#1d2630" },
  ];
  const NO_CLASS = { key: "", label: "Sin dato", color: "#cfd4da", text: "#1d2630" };
  const STATUSES = [
    { key: "reportado", label: "Reportado", color: "#6a3d9a" },
    { key: "validado", label: "Validado", color: "#1f78b4" },
    { key: "derivado", label: "Derivado", color: "#ff7f00" },
    { key: "en_gestion", label: "En gestión", color: "#d4a000" },
    { key: "resuelto", label: "Resuelto", color: "#33a02c" },
    { key: "descartado", label: "Descartado", color: "#7f7f7f" },
    { key: "duplicado", label: "Duplicado", color: "#b8b8b8" },
  ];
  const CLUSTER_SIZES = [
    { cls: "chico", label: "1 a 9 denuncias", max: 9, radius: 3, color: "#4292c6" },
    { cls: "medio", label: "10 a 99 denuncias", max: 99, radius: 4.5, color: "#2171b5" },
    { cls: "grande", label: "100 o más denuncias", max: Infinity, radius: 6.5, color: "#08306b" },
  ];
  const ROLES = {
    police: "policía",
    unit: "unidad municipal",
    planner: "planificación",
    admin: "administración",
  };
  const LEVELS = {
    barrio: { path: "/barrios", one: "Barrio", many: "barrios" },
    micro_barrio: { path: "/micro-barrios", one: "Micro-barrio", many: "micro-barrios" },
  };
  const PRECISIONS = {
    exact: "exacta",
    street: "calle",
    block: "manzana",
    approximate: "aproximada",
  };

  const state = {
    key: sessionStorage.getItem(KEY_STORAGE) || "",
    caller: null,
    level: "barrio",
    ranking: null,
    counts: null,
    variables: {},
    fitted: false,
    comunas: [],
    comuna: null, // the comuna of the view (its code), null when none is loaded
    pendingBase: null, // the comuna whose light base is drawn once its view is ready
    keyChecked: Promise.resolve(),
  };

  // --- small helpers ---------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children (text children are never parsed as HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "style") Object.assign(node.style, value);
      else if (name in node && name !== "list") node[name] = value;
      else node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // built on first use (a panel): each Intl formatter costs milliseconds on a fresh page
  let formats = null;
  const format = () =>
    (formats ||= {
      number: new Intl.NumberFormat("es-CL", { maximumFractionDigits: 1 }),
      precise: new Intl.NumberFormat("es-CL", { maximumFractionDigits: 3 }),
      dateTime: new Intl.DateTimeFormat("es-CL", {
        dateStyle: "medium",
        timeStyle: "short",
        timeZone: "America/Santiago",
      }),
    });
  const formatDate = (iso) => (iso ? format().dateTime.format(new Date(iso)) : "—");
  const statusOf = (key) =>
    STATUSES.find((s) => s.key === key) || { key, label: key, color: "#444" };
  const classOf = (key) => CLASSES.find((c) => c.key === key) || NO_CLASS;

  async function getJSON(url, auth) {
    const headers = { Accept: "application/json, application/geo+json" };
    if (auth && state.key) headers.Authorization = "Bearer " + state.key;
    try {
      const response = await fetch(url, { headers });
      const body = await response.json().catch(() => null);
      return { ok: response.ok, status: response.status, body };
    } catch (error) {
      return { ok: false, status: 0, body: { detail: "Sin conexión con el servidor." } };
    }
  }

  const problemText = (result) =>
    (result.body && (result.body.detail || result.body.title)) || "error " + result.status;

  function note(id, text, kind) {
    const node = $(id);
    node.textContent = text || "";
    node.className = "nota" + (kind ? " " + kind : "");
  }

  // --- map -------------------------------------------------------------------------------

  const map = L.map("mapa", { zoomControl: true, minZoom: 5, maxZoom: 19, zoomSnap: 0.25 }); // clusters need maxZoom
  map.setView([-39.45, -72.77], 12);
  const unitsPane = map.createPane("unidades");
  unitsPane.style.zIndex = 400;
  const factorsPane = map.createPane("factores");
  factorsPane.style.zIndex = 450;
  const complaintsPane = map.createPane("denuncias"); // single complaints, under the clusters
  complaintsPane.style.zIndex = 500;
  map.createPane("terreno").style.zIndex = 420; // over the units, under the factors
  // with no basemap, the census blocks drawn light under everything show the towns' fabric;
  // the comuna outline is drawn over the units, always, and never takes a click
  const basePane = map.createPane("fondo");
  basePane.style.zIndex = 250;
  basePane.style.pointerEvents = "none";
  const outlinePane = map.createPane("contorno");
  outlinePane.style.zIndex = 420;
  outlinePane.style.pointerEvents = "none";
  let outlineLayer = null;
  let baseLayer = null;

  let unitsLayer = null;
  let selectedUnit = null;
  let factorsLayer = null;
  let complaintsLayer = null;
  let terrainLayer = null;

  // --- legend ----------------------------------------------------------------------------

  function buildLegend() {
    const swatch = (color, extra) =>
      el("span", { className: "muestra " + (extra || ""), style: { background: color } });
    $("leyenda-clases").replaceChildren(
      ...[...CLASSES, NO_CLASS].map((c) => el("li", {}, swatch(c.color), c.label)),
      el("li", { className: "ancho" }, swatch(CLASSES[1].color, "inestable"), "Clase inestable (más clara, borde punteado)"),
      el("li", { className: "nota ancho" }, "Inestable: al volver a sortear las denuncias según lo observado, el lugar cambia de clase a menudo (el panel dice cuánto).")
    );
    $("leyenda-estados").replaceChildren(
      ...STATUSES.map((s) => el("li", {}, swatch(s.color, "punto"), s.label))
    );
    $("leyenda-denuncias").replaceChildren(
      ...CLUSTER_SIZES.map((s) =>
        el("li", {}, el("span", { className: "muestra grupo " + s.cls }, "n"), s.label)
      ),
      el("li", {}, swatch("#08519c", "punto"), "Una denuncia (acerque el mapa)"),
      el("li", { className: "nota" }, "De lejos, las denuncias se cuentan por celda; un clic en una celda acerca el mapa.")
    );
    $("leyenda-terreno").replaceChildren(
      ...TERRAIN_CLASSES.filter((c) => c.color).map((c) => el("li", {}, swatch(c.color), c.label)),
      el("li", {}, swatch("transparent", "caliente"), "Punto caliente (Gi*)"),
      el("li", { className: "nota ancho" }, "Riesgo relativo de cada celda según los factores retenidos por el modelo de terreno de riesgo (docs/metodologia.md).")
    );
  }

  function terrainStyle(p) {
    const cls = TERRAIN_CLASSES.find((c) => p.score <= c.max);
    const hot = p.hot_spot === "caliente";
    return {
      fill: Boolean(cls.color),
      fillColor: cls.color || "#000",
      fillOpacity: 0.6,
      stroke: hot,
      color: "#1d2630",
      weight: hot ? 1.5 : 0,
    };
  }

  /** The cells of the comuna's latest risk-terrain model (keyed: planners, police, units). */
  function loadTerrain() {
    if (terrainLayer) terrainLayer.remove();
    terrainLayer = null;
    if (!$("ver-terreno").checked || !state.key) return;
    terrainLayer = L.vectorGrid.protobuf(TERRAIN_TILES, {
      pane: "terreno",
      rendererFactory: L.svg.tile,
      vectorTileLayerStyles: { "terreno-de-riesgo": terrainStyle },
      fetchOptions: { headers: { Authorization: "Bearer " + state.key }, credentials: "omit" },
    }).addTo(map);
  }

  // --- filters ---------------------------------------------------------------------------

  function monthEnd(month) {
    const [year, m] = month.split("-").map(Number);
    const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
    return `${month}-${String(last).padStart(2, "0")}`;
  }

  function nextMonth(month) {
    const [year, m] = month.split("-").map(Number);
    return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, "0")}`;
  }

  /** The UTC offset of Chile's time zone on a date ("-03:00"), for RFC 3339 instants. */
  function chileOffset(day) {
    const name = new Intl.DateTimeFormat("en-US", { timeZone: CHILE, timeZoneName: "longOffset" })
      .formatToParts(new Date(`${day}T12:00:00Z`))
      .find((part) => part.type === "timeZoneName").value; // "GMT-03:00"
    return name === "GMT" ? "Z" : name.slice(3);
  }

  /** The filters as query parameters for each source, or null when they are inconsistent. */
  function filters() {
    const from = $("desde").value;
    const to = $("hasta").value;
    if (from && to && from > to) {
      note("nota-filtros", "El mes «desde» debe ser anterior o igual a «hasta».", "error");
      return null;
    }
    note("nota-filtros", "");
    const complaints = new URLSearchParams();
    const tiles = new URLSearchParams(); // OGC: datetime is a closed interval in RFC 3339
    const factors = new URLSearchParams();
    if (from) {
      complaints.set("occurred_from", `${from}-01T00:00:00`);
      factors.set("received_from", `${from}-01`);
    }
    if (to) {
      complaints.set("occurred_to", `${nextMonth(to)}-01T00:00:00`);
      factors.set("received_to", monthEnd(to));
    }
    if (from || to) {
      const start = from ? `${from}-01T00:00:00${chileOffset(`${from}-01`)}` : "..";
      const last = to ? monthEnd(to) : null;
      const end = last ? `${last}T23:59:59.999${chileOffset(last)}` : "..";
      tiles.set("datetime", `${start}/${end}`);
    }
    if ($("categoria").value) {
      complaints.set("category", $("categoria").value);
      tiles.set("category", $("categoria").value);
    }
    if ($("estado").value) factors.set("status", $("estado").value);
    // the tiles count only the comuna on view: a tile at low zoom reaches into the
    // neighbouring comunas, whose complaints the server would otherwise aggregate too
    if (state.comuna) tiles.set("comuna", state.comuna);
    return { complaints, tiles, factors };
  }

  async function loadCategories() {
    const result = await getJSON(API + "/categories");
    if (!result.ok) return;
    const families = new Map();
    for (const category of result.body) {
      if (!families.has(category.family_name)) families.set(category.family_name, []);
      families.get(category.family_name).push(category);
    }
    for (const [family, list] of families) {
      $("categoria").append(
        el(
          "optgroup",
          { label: family },
          list.map((c) => el("option", { value: c.code }, c.name))
        )
      );
    }
  }

  // --- units (barrios / micro-barrios) coloured by ranking class ---------------------------

  async function loadRanking(level) {
    if (!state.key) {
      // the ranking needs a key: without one, ask nothing (no 401 in the public's console)
      return { missing: true, text: "El ranking requiere una clave con permiso; las unidades se muestran sin color." };
    }
    const query = new URLSearchParams({ level });
    if (state.comuna) query.set("comuna", state.comuna);
    const result = await getJSON(`${API}/rankings/latest?${query}`, true);
    if (result.ok && result.body && Array.isArray(result.body.units)) {
      const units = new Map(result.body.units.map((u) => [u.code, u]));
      return { ...result.body, byCode: units };
    }
    let text = "Sin ranking calculado: las unidades se muestran sin color.";
    if (result.status === 401 || result.status === 403) {
      text = "El ranking requiere una clave con permiso; las unidades se muestran sin color.";
    } else if (result.status !== 404) {
      text = `No se pudo leer el ranking (${problemText(result)}); unidades sin color.`;
    }
    return { missing: true, text };
  }

  async function loadCounts(level) {
    if (!state.key || (state.caller && !canReadComplaints())) return null;
    const params = filters();
    if (!params) return null;
    params.complaints.set("group_by", level);
    if (state.comuna) params.complaints.set("comuna", state.comuna);
    const result = await getJSON(`${API}/complaints/stats?${params.complaints}`, true);
    if (!result.ok) return null;
    return new Map(result.body.groups.map((g) => [g[level], g.count]));
  }

  /** The complaint counts per unit for the panel, once the view is drawn (off its path). */
  async function refreshCounts() {
    const level = state.level;
    const counts = await loadCounts(level);
    if (level === state.level) state.counts = counts;
  }

  /** Method 2: false when the bootstrap often moves the unit to another class. */
  const unstable = (unit) => Boolean(unit && unit.uncertainty && !unit.uncertainty.class_stable);

  function unitStyle(feature) {
    const unit = state.ranking.byCode && state.ranking.byCode.get(feature.properties.code);
    const cls = unit ? classOf(unit.class) : NO_CLASS;
    // an unstable class is drawn lighter with a dotted border (see the legend)
    return {
      color: "#37474f",
      weight: 1.5,
      dashArray: unstable(unit) ? "4 4" : null,
      fillColor: cls.color,
      fillOpacity: !unit ? 0.35 : unstable(unit) ? 0.38 : 0.6,
    };
  }

  async function loadUnits() {
    const level = state.level;
    const where = state.comuna ? "?comuna=" + encodeURIComponent(state.comuna) : "";
    const [territory, ranking] = await Promise.all([
      getJSON(API + LEVELS[level].path + where),
      loadRanking(level),
    ]);
    if (level !== state.level) return; // the user switched level meanwhile
    state.ranking = ranking;
    state.counts = null; // read after the first view (refreshCounts): only a panel shows them
    if (unitsLayer) unitsLayer.remove();
    selectedUnit = null;
    if (!territory.ok) {
      note("nota-ranking", "No se pudieron leer las unidades: " + problemText(territory), "error");
      $("mapa").dataset.unidades = "0";
      return;
    }
    if (ranking.missing) note("nota-ranking", ranking.text, "aviso");
    else note("nota-ranking", `Ranking ${ranking.id ?? ""} · ${describe(ranking.period)}`);

    // pane and className must be given at creation (style() only restyles later)
    unitsLayer = L.geoJSON(territory.body, {
      pane: "unidades",
      className: "unidad",
      style: unitStyle,
      onEachFeature(feature, layer) {
        const unit = state.ranking.byCode && state.ranking.byCode.get(feature.properties.code);
        const tip = feature.properties.name + (unstable(unit) ? " · clase inestable" : "");
        layer.bindTooltip(tip, { sticky: true });
        layer.on("click", (event) => {
          if (clickComplaint(event.latlng)) return L.DomEvent.stopPropagation(event);
          if (selectedUnit) unitsLayer.resetStyle(selectedUnit);
          selectedUnit = layer;
          layer.setStyle({ weight: 4, color: "#0b1f33" });
          showUnit(feature);
        });
      },
    }).addTo(map);
    $("mapa").dataset.unidades = String(territory.body.features.length);
    if (!state.fitted && territory.body.features.length) {
      map.fitBounds(unitsLayer.getBounds(), { padding: [10, 10], animate: false });
      state.fitted = true;
    }
  }

  function describe(value) {
    if (value === null || value === undefined) return "";
    if (typeof value !== "object") return String(value);
    if ("start" in value || "end" in value) return `${value.start ?? "…"} a ${value.end ?? "…"}`;
    if ("name" in value) return value.version ? `${value.name} v${value.version}` : value.name;
    return Object.values(value).join(" · ");
  }

  function showUnit(feature) {
    const props = feature.properties;
    const level = LEVELS[state.level];
    const unit = state.ranking.byCode && state.ranking.byCode.get(props.code);
    const parts = [
      el("h2", {}, props.name),
      el(
        "p",
        { className: "nota" },
        `${level.one} ${props.code}`,
        props.population != null ? ` · ${format().number.format(props.population)} habitantes` : ""
      ),
    ];
    if (state.counts) {
      parts.push(
        el("p", {}, "Denuncias con los filtros actuales: ", el("strong", {}, format().number.format(state.counts.get(props.code) || 0)))
      );
    }
    if (unit) parts.push(...rankingBreakdown(unit, level));
    else parts.push(el("p", { className: "nota aviso" }, state.ranking.text || "Sin dato de ranking para esta unidad."));
    openPanel("unidad", parts);
  }

  /**
   * Where the unit stands and why, in the words the API gives (app/rankings/wording.py):
   * "lugar 4 de 19, entre 2 y 8", the class with how often resampling keeps it, each
   * variable's points with its plain sentence (map-config's `plain`), and how much of the
   * weight carried no signal. Method-1 rankings have no intervals: rank and class only.
   */
  function rankingBreakdown(unit, level) {
    const cls = classOf(unit.class);
    const spread = unit.uncertainty;
    const method = state.ranking.method || {};
    const badge = el(
      "span",
      { className: "clase" + (unstable(unit) ? " inestable" : ""), style: { background: cls.color, color: cls.text } },
      cls.label + (unstable(unit) ? " *" : "")
    );
    return [
      el(
        "dl",
        { className: "ranking" },
        el("dt", {}, "Lugar"),
        el("dd", { className: "lugar" }, spread ? spread.summary : `${unit.rank} de ${state.ranking.byCode.size} ${level.many}`),
        el("dt", {}, "Clase"),
        el("dd", { className: "clase-texto" }, badge, spread ? el("div", { className: "nota" }, spread.class_summary) : null),
        el("dt", {}, "Puntaje"),
        el("dd", {}, `${format().number.format(unit.score)} de 100`)
      ),
      spread
        ? el("p", { className: "nota" }, "El intervalo y el porcentaje salen de volver a sortear muchas veces las denuncias según lo observado: muestran cuánto puede moverse el lugar solo por azar.")
        : null,
      method.signal_summary ? el("p", { className: "senal" }, method.signal_summary) : null,
      el("h3", {}, "Qué aporta cada variable (puntos de 100)"),
      contributionBars(unit, method.signal || {}),
      el("p", { className: "nota" }, `Perfil ${describe(state.ranking.profile)} · período ${describe(state.ranking.period)} · método ${method.version || "1"}`),
    ];
  }

  function contributionBars(unit, signal) {
    const entries = Object.entries(unit.contributions || {}).sort((a, b) => b[1] - a[1]);
    const largest = Math.max(1e-9, ...entries.map(([, v]) => Math.abs(v)));
    return el(
      "ul",
      { className: "barras" },
      entries.map(([name, value]) => {
        const variable = state.variables[name] || { label: name, unit: "", plain: "" };
        const raw = unit.raw && unit.raw[name];
        const silent = signal[name] && !signal[name].signal;
        // the technical value (a log ratio, a z score) is for planners: on hover only
        const technical = [variable.description, raw != null ? `valor ${format().precise.format(raw)} ${variable.unit}` : ""]
          .filter(Boolean)
          .join(" · ");
        return el(
          "li",
          { "data-variable": name, title: technical || name, className: silent ? "sin-senal" : "" },
          el(
            "div",
            { className: "nombre" },
            el("span", {}, variable.label),
            el("span", {}, silent ? "sin señal · 0" : format().number.format(value ?? 0))
          ),
          el("div", { className: "pista" }, el("div", { className: "barra-valor", style: { width: `${(100 * Math.abs(value ?? 0)) / largest}%` } })),
          variable.plain ? el("div", { className: "explicacion" }, variable.plain) : null
        );
      })
    );
  }

  // --- risk factors coloured by status ----------------------------------------------------

  async function loadRiskFactors() {
    if (factorsLayer) factorsLayer.remove();
    factorsLayer = null;
    $("mapa").dataset.factores = "0";
    if (!$("ver-factores").checked) return;
    const params = filters();
    if (!params) return;
    let url;
    const keyed = Boolean(state.key); // checked by the server, in parallel with /me
    if (keyed) {
      params.factors.set("limit", "10000");
      if (state.comuna) params.factors.set("comuna", state.comuna);
      url = `${API}/risk-factors?${params.factors}`;
    } else {
      const open = new URLSearchParams({ limit: "10000" });
      if (state.comuna) open.set("comuna", state.comuna);
      if (params.factors.has("status")) open.set("status", params.factors.get("status"));
      url = `${API}/public/risk-factors?${open}`;
    }
    const result = await getJSON(url, keyed);
    if (keyed && !state.key) return; // the key was rejected meanwhile: the page redraws
    if (!result.ok) {
      note("nota-filtros", "Factores de riesgo: " + problemText(result), "error");
      return;
    }
    // style() also restyles the circle markers (resetStyle), so it covers both shapes
    const style = (feature) => {
      const color = statusOf(feature.properties.status).color;
      return feature.geometry.type === "Point"
        ? { radius: 7, color: "#fff", weight: 1.5, fillColor: color, fillOpacity: 0.95 }
        : { color, weight: 4, fillColor: color, fillOpacity: 0.4 };
    };
    factorsLayer = L.geoJSON(result.body, {
      pane: "factores",
      className: "factor",
      style,
      pointToLayer: (feature, latlng) =>
        L.circleMarker(latlng, { pane: "factores", className: "factor", ...style(feature) }),
      onEachFeature(feature, layer) {
        layer.bindTooltip(feature.properties.type_label);
        layer.on("click", (event) => {
          L.DomEvent.stopPropagation(event);
          if (!clickComplaint(event.latlng)) showRiskFactor(feature);
        });
      },
    }).addTo(map);
    $("mapa").dataset.factores = String(result.body.features.length);
  }

  async function showRiskFactor(feature) {
    const props = feature.properties;
    const status = statusOf(props.status);
    const badge = el("span", { className: "clase", style: { background: status.color, color: "#fff" } }, status.label);
    if (!state.caller) {
      openPanel("factor", [
        el("h2", {}, props.type_label),
        el("dl", {},
          el("dt", {}, "Estado"), el("dd", {}, badge),
          el("dt", {}, "Informado"), el("dd", {}, props.reported_month),
          el("dt", {}, "Resuelto"), el("dd", {}, props.resolved_month || "—"),
          el("dt", {}, "Vencido"), el("dd", {}, props.overdue ? "sí" : "no")
        ),
        el("p", { className: "nota" }, `Ubicación generalizada al centro del ${props.location_precision === "barrio" ? "barrio" : "micro-barrio"}. Con una clave se ve el detalle y la línea de tiempo.`),
      ]);
      return;
    }
    openPanel("factor", [el("h2", {}, props.type_label), el("p", { className: "nota" }, "Cargando…")]);
    const result = await getJSON(`${API}/risk-factors/${encodeURIComponent(feature.id)}`, true);
    if (!result.ok) {
      openPanel("factor", [el("h2", {}, props.type_label), el("p", { className: "nota error" }, problemText(result))]);
      return;
    }
    const report = result.body;
    openPanel("factor", [
      el("h2", {}, report.type.label),
      el("dl", {},
        el("dt", {}, "Estado"), el("dd", {}, badge),
        el("dt", {}, "Gravedad"), el("dd", {}, `${report.severity} de 5`),
        el("dt", {}, "Recibido"), el("dd", {}, formatDate(report.received_at)),
        el("dt", {}, "Plazo"), el("dd", {}, formatDate(report.due_at), report.overdue ? " (vencido)" : ""),
        el("dt", {}, "Responsable"), el("dd", {}, report.responsible_unit || `sin derivar (sugerida: ${report.suggested_unit})`),
        el("dt", {}, "Informa"), el("dd", {}, [report.institution, report.reporting_unit].filter(Boolean).join(" · ")),
        el("dt", {}, "Barrio"), el("dd", {}, report.barrio ? report.barrio.name : "—"),
        el("dt", {}, "Micro-barrio"), el("dd", {}, report.micro_barrio ? report.micro_barrio.name : "—")
      ),
      report.description ? el("p", {}, report.description) : null,
      el("h3", {}, "Línea de tiempo"),
      el(
        "ol",
        { className: "linea-tiempo" },
        report.timeline.map((step) =>
          el(
            "li",
            {},
            el("time", { dateTime: step.at }, formatDate(step.at)),
            el("strong", {}, step.from_status ? `${statusOf(step.from_status).label} → ${statusOf(step.to_status).label}` : statusOf(step.to_status).label),
            el("div", { className: "nota" }, [step.actor.institution, ROLES[step.actor.role] || step.actor.role, step.actor.unit, step.actor.name].filter(Boolean).join(" · ")),
            step.note ? el("div", {}, step.note) : null
          )
        )
      ),
    ]);
  }

  // --- complaints as clusters -------------------------------------------------------------

  const canReadComplaints = () =>
    state.caller && ["planner", "police", "admin"].includes(state.caller.role);

  /** VectorGrid.Protobuf drawing 512-pixel tiles: the server's tile of zoom z - 1 (its 4096
   * units hold the detail of four 256-pixel tiles), so a view takes a quarter of the requests
   * (the public's per-client request limit counts each one). */
  const Tiles512 = L.VectorGrid.Protobuf.extend({
    options: { tileSize: 512 },
    _getVectorTilePromise(coords) {
      const served = L.point(coords.x, coords.y);
      served.z = coords.z - 1;
      return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, served);
    },
  });

  /**
   * 512-pixel complaint tiles (cells of 8 pixels) drawn straight onto one canvas per tile:
   * a tile holds up to a few thousand points, and one Leaflet path (an SVG element with its
   * style and events) per point cost more than everything else in a keyed first view
   * (2,519 points: ~400 ms of script and style). The canvas takes no pointer events, so the
   * units and risk factors under it keep their tooltips and clicks; a click is matched to the
   * nearest drawn complaint by `hit` (complaints come first, as they are drawn on top). Each
   * tile counts its complaints (cells carry `count`, points count one) and its points and
   * cells, which #mapa shows as data-denuncias, data-puntos and data-celdas.
   */
  const MARGIN = 8; // pixels drawn past the tile's edge (a point near it is not cut)
  const ComplaintTiles = Tiles512.extend({
    initialize(url, options) {
      Tiles512.prototype.initialize.call(this, url, options);
      this.drawnTiles = new Map(); // tile key -> {z, items, count, points, cells}
      this.on("tileunload", (event) => this.drawnTiles.delete(this._tileCoordsToKey(event.coords)));
    },
    createTile(coords, done) {
      const size = this.getTileSize();
      const tile = L.DomUtil.create("div", "teselas-denuncias");
      const canvas = L.DomUtil.create("canvas", "", tile);
      const ratio = window.devicePixelRatio || 1;
      canvas.width = (size.x + 2 * MARGIN) * ratio;
      canvas.height = (size.y + 2 * MARGIN) * ratio;
      Object.assign(canvas.style, {
        position: "absolute",
        left: -MARGIN + "px",
        top: -MARGIN + "px",
        width: size.x + 2 * MARGIN + "px",
        height: size.y + 2 * MARGIN + "px",
      });
      this._getVectorTilePromise(coords).then(
        (vectorTile) => {
          const layer = vectorTile.layers.complaints;
          const scale = layer ? size.x / layer.extent : 1;
          const items = [];
          let count = 0;
          for (const feature of (layer && layer.features) || []) {
            const point = feature.geometry[0][0];
            const properties = feature.properties;
            count += properties.count ?? 1;
            items.push({ x: point.x * scale, y: point.y * scale, properties, style: complaintStyle(properties) });
          }
          const context = canvas.getContext("2d");
          context.setTransform(ratio, 0, 0, ratio, MARGIN * ratio, MARGIN * ratio);
          for (const item of items) drawCircle(context, item);
          const cells = items.filter((item) => item.properties.count !== undefined).length;
          this.drawnTiles.set(this._tileCoordsToKey(coords), {
            z: coords.z,
            items,
            count,
            cells,
            points: items.length - cells,
          });
          done(null, tile);
        },
        (error) => done(error, tile)
      );
      return tile;
    },
    /** Totals over the tiles of the current zoom (a tile may reach past the view). */
    drawn() {
      const z = Math.round(this._map.getZoom());
      const total = { count: 0, points: 0, cells: 0 };
      for (const tile of this.drawnTiles.values()) {
        if (tile.z !== z) continue;
        total.count += tile.count;
        total.points += tile.points;
        total.cells += tile.cells;
      }
      return total;
    },
    /** The drawn complaint or cell under a point of the map (the nearest, drawn last on
     * ties), or null. */
    hit(latlng) {
      const z = this._tileZoom;
      if (z === undefined || !this._map) return null;
      const size = this.getTileSize();
      const pixel = this._map.project(latlng, z);
      const scale = this._map.getZoomScale(this._map.getZoom(), z); // screen px per tile px
      let best = null;
      let bestDistance = Infinity;
      const tx = Math.floor(pixel.x / size.x);
      const ty = Math.floor(pixel.y / size.y);
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          const tile = this.drawnTiles.get(`${tx + dx}:${ty + dy}:${z}`);
          if (!tile) continue;
          const x = pixel.x - (tx + dx) * size.x;
          const y = pixel.y - (ty + dy) * size.y;
          for (const item of tile.items) {
            const distance = Math.hypot(item.x - x, item.y - y) * scale;
            const reach = item.style.radius + item.style.weight / 2 + 1;
            if (distance <= reach && distance <= bestDistance) {
              best = item;
              bestDistance = distance;
            }
          }
        }
      }
      return best;
    },
  });

  function drawCircle(context, { x, y, style }) {
    context.beginPath();
    context.arc(x, y, style.radius, 0, 2 * Math.PI);
    context.globalAlpha = style.fillOpacity;
    context.fillStyle = style.fillColor;
    context.fill();
    context.globalAlpha = style.opacity;
    context.lineWidth = style.weight;
    context.strokeStyle = style.color;
    context.stroke();
  }

  const POINT_STYLE = { radius: 4, color: "#fff", opacity: 1, weight: 1, fillColor: "#08519c", fillOpacity: 0.9 };
  const CELL_STYLES = CLUSTER_SIZES.map((size) => ({
    max: size.max,
    radius: size.radius,
    color: size.color,
    opacity: 0.35,
    weight: 3,
    fillColor: size.color,
    fillOpacity: 0.85,
  }));

  function complaintStyle(properties) {
    if (properties.count === undefined) return POINT_STYLE;
    return CELL_STYLES.find((s) => properties.count <= s.max);
  }

  /** A click on a drawn complaint opens it (a cell zooms in); true when it was one. */
  function clickComplaint(latlng) {
    const item = complaintsLayer && complaintsLayer.hit(latlng);
    if (!item) return false;
    if (item.properties.count === undefined) showComplaint(item.properties);
    else map.setView(latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
    return true;
  }

  /** Draws the complaint tiles; resolves once the first view's tiles are drawn. */
  async function loadComplaints(unitsLoaded) {
    if (complaintsLayer) complaintsLayer.remove();
    complaintsLayer = null;
    Object.assign($("mapa").dataset, { denuncias: "0", puntos: "0", celdas: "0" });
    if (!$("ver-denuncias").checked || !state.key) return;
    if (state.caller && !canReadComplaints()) {
      noRoleForComplaints();
      return;
    }
    const params = filters();
    if (!params) return;
    if (unitsLoaded) await unitsLoaded; // the first fit to the territory sets the view to draw
    const query = params.tiles.toString();
    const layer = new ComplaintTiles(COMPLAINT_TILES + (query ? "?" + query : ""), {
      pane: "denuncias",
      tileSize: 512,
      minZoom: 1,
      fetchOptions: { headers: { Authorization: "Bearer " + state.key }, credentials: "omit" },
    });
    layer.on("load", () => {
      const drawn = layer.drawn();
      Object.assign($("mapa").dataset, {
        denuncias: String(drawn.count),
        puntos: String(drawn.points),
        celdas: String(drawn.cells),
      });
    });
    // removed before its first view (key rejected, role without complaints): done as well
    const firstView = new Promise((resolve) => layer.once("load remove", resolve));
    complaintsLayer = layer.addTo(map);
    state.keyChecked.then(() => {
      if (complaintsLayer !== layer || canReadComplaints()) return;
      layer.remove();
      complaintsLayer = null;
      Object.assign($("mapa").dataset, { denuncias: "0", puntos: "0", celdas: "0" });
      if (state.caller) noRoleForComplaints();
    });
    await firstView;
  }

  const noRoleForComplaints = () =>
    note("nota-filtros", "Su rol no puede ver denuncias (planificación, policía o administración).", "aviso");

  /** A complaint's panel, from its tile attributes (the tiles carry no address nor case). */
  function showComplaint(p) {
    openPanel("denuncia", [
      el("h2", {}, p.category_name),
      el("dl", {},
        el("dt", {}, "Ocurrió"), el("dd", {}, formatDate(p.occurred_at)),
        el("dt", {}, "Ubicación"), el("dd", {}, `precisión ${PRECISIONS[p.precision] || p.precision}`),
        el("dt", {}, "Barrio"), el("dd", {}, p.barrio || "—"),
        el("dt", {}, "Micro-barrio"), el("dd", {}, p.micro_barrio || "—"),
        el("dt", {}, "Fuente"), el("dd", {}, p.source)
      ),
      p.sensitive ? el("p", { className: "nota aviso" }, "Categoría sensible: nunca se publica bajo el nivel comunal.") : null,
    ]);
  }

  // --- side panel -------------------------------------------------------------------------

  function openPanel(kind, children) {
    if (kind !== "unidad" && selectedUnit && unitsLayer) {
      unitsLayer.resetStyle(selectedUnit);
      selectedUnit = null;
    }
    const content = $("panel-contenido");
    content.dataset.tipo = kind;
    content.replaceChildren(...children.filter(Boolean));
    $("panel").hidden = false;
  }

  function closePanel() {
    $("panel").hidden = true;
    if (selectedUnit && unitsLayer) unitsLayer.resetStyle(selectedUnit);
    selectedUnit = null;
  }

  // --- access -----------------------------------------------------------------------------

  async function checkKey() {
    state.caller = null;
    if (state.key) {
      const result = await getJSON(API + "/me", true);
      if (result.ok) {
        state.caller = result.body;
      } else {
        note("estado-acceso", "Clave rechazada: " + problemText(result), "error");
        state.key = "";
        sessionStorage.removeItem(KEY_STORAGE);
      }
    }
    if (state.caller) {
      const who = state.caller;
      note("estado-acceso", `Conectado: ${who.key_name} (${ROLES[who.role] || who.role}, ${who.institution}).`);
    } else if (!$("estado-acceso").classList.contains("error")) {
      note("estado-acceso", "Sin clave: solo capas públicas (barrios y factores de riesgo con ubicación generalizada).", "aviso");
    }
    $("salir").hidden = !state.caller;
    $("clave").value = "";
  }

  /** Draws every layer; with a key still being checked, redraws the public ones if rejected. */
  async function reloadAll() {
    document.body.dataset.estado = "cargando";
    const hadKey = Boolean(state.key);
    loadTerrain();
    const units = loadUnits();
    await Promise.all([
      units,
      loadRiskFactors(),
      loadComplaints(state.fitted ? null : units),
      state.keyChecked,
    ]);
    if (hadKey && !state.key) await reloadAll();
    else {
      if (window.vigiaInicio) window.vigiaInicio.done(); // unused early answers: never later
      document.body.dataset.estado = "listo";
      if (state.pendingBase && state.pendingBase.code === state.comuna) drawBase(state.pendingBase);
      state.pendingBase = null;
      refreshCounts();
    }
  }

  // --- comunas ----------------------------------------------------------------------------

  /** The comuna of the first view: ?comuna= in the address, else the first listed. */
  function chooseComuna(comunas) {
    state.comunas = comunas;
    const asked = new URLSearchParams(window.location.search).get("comuna");
    let chosen = comunas[0] || null;
    if (asked) {
      const found = comunas.find((c) => c.code === asked);
      if (found) chosen = found;
      else note("nota-comuna", `La comuna ${asked} no está cargada; se muestra ${chosen ? chosen.name : "el mapa vacío"}.`, "error");
    }
    $("comuna").replaceChildren(...comunas.map((c) => el("option", { value: c.code }, c.name)));
    $("elegir-comuna").hidden = comunas.length < 2;
    showComuna(chosen);
  }

  /** The first view: the comuna's most populated settlement (its whole extent is a zoom out
   * away), with the comuna's outline. */
  function showComuna(comuna) {
    state.comuna = comuna ? comuna.code : null;
    if (outlineLayer) outlineLayer.remove();
    if (!comuna) return;
    $("comuna").value = comuna.code;
    $("mapa").dataset.comuna = comuna.code;
    const [west, south, east, north] = comuna.settled_bbox || comuna.bbox;
    map.fitBounds([[south, west], [north, east]], { padding: [10, 10], animate: false });
    state.fitted = true;
    if (comuna.outline) {
      outlineLayer = L.geoJSON(comuna.outline, {
        pane: "contorno",
        className: "contorno-comuna",
        interactive: false,
        style: { color: "#17324d", weight: 2.5, dashArray: "8 5", fill: false },
      }).addTo(map);
    }
    // the light base is drawn once the layers of the view are (reloadAll): off its path
    if (!state.basemap) state.pendingBase = comuna;
  }

  /** The light base when no basemap is configured: the comuna's census blocks (public OGC
   * vector tiles, thin grey outlines) so a town view shows its streets; a comuna without
   * blocks gets its micro-barrios instead. #mapa's data-fondo says which was drawn. */
  function drawBase(comuna) {
    if (baseLayer) baseLayer.remove();
    baseLayer = null;
    if (comuna.census_blocks > 0) {
      baseLayer = new Tiles512(BLOCK_TILES, {
        pane: "fondo",
        rendererFactory: L.svg.tile,
        interactive: false,
        minZoom: BLOCKS_MIN_ZOOM,
        vectorTileLayerStyles: {
          manzanas: { className: "fondo-manzanas", fill: true, fillColor: "#ffffff", fillOpacity: 1, color: "#8f99a3", weight: 0.7 },
        },
        fetchOptions: { credentials: "omit" }, // public tiles: the key never goes with them
      }).addTo(map);
      $("mapa").dataset.fondo = "manzanas";
      return;
    }
    $("mapa").dataset.fondo = "micro-barrios";
    drawMicroBarrioBase(comuna.code);
  }

  async function drawMicroBarrioBase(code) {
    const result = await getJSON(`${API}/micro-barrios?comuna=${encodeURIComponent(code)}`);
    if (!result.ok || code !== state.comuna || baseLayer) return;
    baseLayer = L.geoJSON(result.body, {
      pane: "fondo",
      className: "fondo-micro-barrios",
      interactive: false,
      style: { color: "#ffffff", weight: 1.5, fillColor: "#d9dee3", fillOpacity: 1 },
    }).addTo(map);
  }

  async function start() {
    buildLegend();
    for (const status of STATUSES) $("estado").append(el("option", { value: status.key }, status.label));
    document.body.dataset.estado = "cargando";
    // all at once: the key check does not hold back anything (see the header)
    state.keyChecked = checkKey();
    loadCategories();
    const written = window.vigiaInicio && window.vigiaInicio.config;
    const config = written ? { ok: true, body: written } : await getJSON(API + "/map-config");
    if (config.ok) {
      state.variables = config.body.variables || {};
      const basemap = config.body.basemap;
      state.basemap = Boolean(basemap);
      if (basemap) {
        L.tileLayer(basemap.url, { attribution: basemap.attribution, maxZoom: basemap.max_zoom }).addTo(map);
        $("mapa").classList.add("con-mapa-base");
      }
      chooseComuna(config.body.comunas || []);
    }
    await reloadAll();
  }

  $("form-clave").addEventListener("submit", async (event) => {
    event.preventDefault();
    state.key = $("clave").value.trim();
    if (state.key) sessionStorage.setItem(KEY_STORAGE, state.key);
    note("estado-acceso", "");
    state.keyChecked = checkKey();
    await reloadAll();
  });
  $("salir").addEventListener("click", async () => {
    state.key = "";
    sessionStorage.removeItem(KEY_STORAGE);
    note("estado-acceso", "");
    state.keyChecked = checkKey();
    closePanel();
    await reloadAll();
  });
  $("form-filtros").addEventListener("submit", async (event) => {
    event.preventDefault();
    await reloadAll();
  });
  for (const radio of document.querySelectorAll('input[name="nivel"]')) {
    radio.addEventListener("change", async () => {
      state.level = radio.value;
      closePanel();
      document.body.dataset.estado = "cargando";
      await loadUnits();
      document.body.dataset.estado = "listo";
      refreshCounts();
    });
  }
  $("ver-factores").addEventListener("change", loadRiskFactors);
  $("ver-denuncias").addEventListener("change", () => loadComplaints(null));
  $("ver-terreno").addEventListener("change", loadTerrain);
  $("cerrar-panel").addEventListener("click", closePanel);
  $("comuna").addEventListener("change", async () => {
    const comuna = state.comunas.find((c) => c.code === $("comuna").value);
    const address = new URL(window.location.href);
    address.searchParams.set("comuna", comuna.code);
    history.replaceState(null, "", address);
    note("nota-comuna", "");
    closePanel();
    showComuna(comuna);
    await reloadAll();
  });

  // complaints are drawn on canvases that take no pointer events (ComplaintTiles)
  map.on("click", (event) => clickComplaint(event.latlng));
  map.on("mousemove", (event) => {
    const over = Boolean(complaintsLayer && complaintsLayer.hit(event.latlng));
    map.getContainer().classList.toggle("sobre-denuncia", over);
  });

  /** For scripts and tests: the drawn complaints (points or cells) inside the view, with
   * their position in the map's container. */
  function drawnComplaints() {
    if (!complaintsLayer) return [];
    const size = complaintsLayer.getTileSize();
    const view = map.getSize();
    const found = [];
    for (const [key, tile] of complaintsLayer.drawnTiles) {
      const [x, y, z] = key.split(":").map(Number);
      if (z !== complaintsLayer._tileZoom) continue;
      for (const item of tile.items) {
        const latlng = map.unproject([x * size.x + item.x, y * size.y + item.y], z);
        const at = map.latLngToContainerPoint(latlng);
        if (at.x < 0 || at.y < 0 || at.x > view.x || at.y > view.y) continue;
        found.push({ x: at.x, y: at.y, cell: item.properties.count !== undefined });
      }
    }
    return found;
  }

  window.vigia = { map, drawnComplaints }; // for scripts (screenshots) and debugging
  start();
})();
