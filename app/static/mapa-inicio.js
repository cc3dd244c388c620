/* The web map's first requests, sent before Leaflet and the map's code are evaluated.
 *
 * On a fresh page (no code cache) evaluating leaflet.js, VectorGrid and mapa.js keeps the
 * main thread busy for a few hundred milliseconds; the map's data and tiles used to be
 * requested only after that. This small script runs first (index.html loads it before
 * Leaflet), reads the map configuration the server wrote into the page
 * (<script id="mapa-config">, the body of /api/v1/map-config), works out the first view
 * exactly as mapa.js will (the comuna, Leaflet's fitBounds with the same padding and
 * zoomSnap, the 512-pixel tiles VectorGrid will ask for), and sends those requests at once:
 * the key check (/me), the units, the ranking, the risk factors and the complaint tiles.
 *
 * fetch() then hands each response, once, to the first request of the page for the same
 * URL with the same key (GET only); anything else goes to the network as before. What was
 * sent here and not asked for (e.g. the user changed a filter meanwhile) is dropped when the
 * first view is ready (`window.vigiaInicio.done()`), so no later request gets an old answer.
 * A page without the configuration (/static/index.html) sends nothing early.
 */
(function () {
  "use strict";

  const API = "/api/v1";
  const COMPLAINT_TILES = "/ogc/collections/complaints/tiles/WebMercatorQuad/";
  // Leaflet's L.Map options in mapa.js and its fitBounds padding for the first view
  const ZOOM_SNAP = 0.25;
  const MIN_ZOOM = 5;
  const MAX_ZOOM = 19;
  const PADDING = 10;
  const TILE_SIZE = 512; // mapa.js's Tiles512: the server's tile of zoom z - 1

  const sent = new Map(); // "<authorization> <url>" -> Promise<Response>
  const plainFetch = window.fetch.bind(window);
  const keyOf = (url, authorization) => (authorization || "") + " " + url;

  function authorizationOf(options) {
    const headers = options && options.headers;
    if (!headers) return "";
    if (headers instanceof Headers) return headers.get("Authorization") || "";
    return headers.Authorization || "";
  }

  const early = []; // for tests: the URLs sent here, and those the page then asked for
  const taken = [];

  window.fetch = function (resource, options) {
    if (typeof resource === "string" && (!options || !options.method || options.method === "GET")) {
      const key = keyOf(resource, authorizationOf(options));
      const answer = sent.get(key);
      if (answer) {
        sent.delete(key);
        taken.push(resource);
        return answer;
      }
    }
    return plainFetch(resource, options);
  };

  function send(url, key, extra) {
    const headers = { Accept: "application/json, application/geo+json" };
    if (key) headers.Authorization = "Bearer " + key;
    const options = { headers, ...extra };
    sent.set(keyOf(url, headers.Authorization), plainFetch(url, options));
    early.push(url);
  }

  const holder = document.getElementById("mapa-config");
  const text = holder ? holder.textContent.trim() : "";
  const config = text ? JSON.parse(text) : null;
  window.vigiaInicio = {
    config,
    early,
    taken,
    done() {
      sent.clear();
    },
  };
  if (!config) return;

  const comunas = config.comunas || [];
  const asked = new URLSearchParams(window.location.search).get("comuna");
  const comuna = comunas.find((c) => c.code === asked) || comunas[0];
  if (!comuna) return;
  let key = "";
  try {
    key = sessionStorage.getItem("vigia.clave") || "";
  } catch (error) {
    key = "";
  }
  const value = (id) => {
    const node = document.getElementById(id);
    return node ? node.value : "";
  };
  const checked = (id) => {
    const node = document.getElementById(id);
    return Boolean(node && node.checked);
  };
  // a form restored by the browser with filters set: mapa.js asks other URLs, send nothing
  if (value("desde") || value("hasta") || value("categoria") || value("estado")) return;

  const code = encodeURIComponent(comuna.code);
  const level = (document.querySelector('input[name="nivel"]:checked') || {}).value || "barrio";
  const path = level === "micro_barrio" ? "/micro-barrios" : "/barrios";
  send(`${API}${path}?comuna=${code}`, "");
  if (key) {
    send(`${API}/me`, key);
    send(`${API}/rankings/latest?level=${level}&comuna=${code}`, key);
  }
  if (checked("ver-factores")) {
    send(`${API}/${key ? "" : "public/"}risk-factors?limit=10000&comuna=${code}`, key);
  }
  if (key && checked("ver-denuncias")) {
    for (const [z, x, y] of firstTiles(comuna)) {
      // exactly as VectorGrid asks them (mapa.js: fetchOptions of the complaint layer)
      send(`${COMPLAINT_TILES}${z - 1}/${x}/${y}?comuna=${code}`, key, { credentials: "omit" });
    }
  }

  // --- Leaflet's arithmetic for the first view (L.Map.fitBounds, L.GridLayer._update) ---

  /** EPSG:3857 pixel coordinates at `zoom` (Leaflet's CRS with 256-pixel tiles). */
  function project(lat, lon, zoom) {
    const limit = 85.0511287798;
    const phi = (Math.max(Math.min(limit, lat), -limit) * Math.PI) / 180;
    const scale = 256 * Math.pow(2, zoom);
    return [
      scale * (0.5 + lon / 360),
      scale * (0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI)),
    ];
  }

  /** The 512-pixel tiles [z, x, y] VectorGrid asks for once mapa.js fits the comuna. */
  function firstTiles(view) {
    const node = document.getElementById("mapa");
    const width = node.clientWidth;
    const height = node.clientHeight;
    if (!width || !height) return [];
    const [west, south, east, north] = view.settled_bbox || view.bbox;
    // getBoundsZoom from any start zoom: the scale between the view and the bounds
    const [x0, y0] = project(north, west, 0);
    const [x1, y1] = project(south, east, 0);
    const scale = Math.min((width - 2 * PADDING) / (x1 - x0), (height - 2 * PADDING) / (y1 - y0));
    let zoom = Math.log(scale) / Math.LN2;
    zoom = Math.round(zoom / (ZOOM_SNAP / 100)) * (ZOOM_SNAP / 100);
    zoom = Math.floor(zoom / ZOOM_SNAP) * ZOOM_SNAP;
    zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
    // the centre of the bounds at that zoom, then the tiled pixel bounds at the tile zoom
    const [sx, sy] = project(south, west, zoom);
    const [nx, ny] = project(north, east, zoom);
    const tileZoom = Math.round(zoom);
    const factor = Math.pow(2, tileZoom - zoom);
    const cx = Math.floor(((sx + nx) / 2) * factor);
    const cy = Math.floor(((sy + ny) / 2) * factor);
    const halfX = width / (Math.pow(2, zoom - tileZoom) * 2);
    const halfY = height / (Math.pow(2, zoom - tileZoom) * 2);
    const minX = Math.floor((cx - halfX) / TILE_SIZE);
    const minY = Math.floor((cy - halfY) / TILE_SIZE);
    const maxX = Math.ceil((cx + halfX) / TILE_SIZE) - 1;
    const maxY = Math.ceil((cy + halfY) / TILE_SIZE) - 1;
    const last = Math.pow(2, tileZoom) - 1;
    const tiles = [];
    for (let y = Math.max(0, minY); y <= Math.min(last, maxY); y++) {
      for (let x = minX; x <= maxX; x++) tiles.push([tileZoom, x, y]);
    }
    return tiles;
  }
})();
