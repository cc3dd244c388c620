/**
 * The field form's map, loaded only when the officer taps "Elegir en el mapa": Leaflet
 * (~150 KB) is not part of the first load, which must stay small on a rural mobile link.
 *
 * The map shows the comuna's outline and its micro-barrios as a light base (no internet
 * basemap is needed), the officer's GPS position with its accuracy circle, and the shape
 * being drawn: a tap sets the point, or adds a vertex to a stretch (line) or an area.
 */
import { api } from "/static/comun/api.js";

let leaflet = null;

function load(tag, attrs) {
  return new Promise((resolve, reject) => {
    const node = Object.assign(document.createElement(tag), attrs);
    node.onload = resolve;
    node.onerror = () => reject(new Error(attrs.src || attrs.href));
    document.head.append(node);
  });
}

/** Leaflet's script and style, once. */
function loadLeaflet() {
  if (!leaflet) {
    leaflet = Promise.all([
      load("link", { rel: "stylesheet", href: "/static/vendor/leaflet/leaflet.css" }),
      load("script", { src: "/static/vendor/leaflet/leaflet.js" }),
    ]).then(() => window.L);
  }
  return leaflet;
}

const BASE = { color: "#ffffff", weight: 1.5, fillColor: "#d9dee3", fillOpacity: 1, interactive: false };
const OUTLINE = { color: "#17324d", weight: 2, fill: false, dashArray: "6 4", interactive: false };
const SHAPE = { color: "#c2410c", weight: 4, fillOpacity: 0.25 };

export class FieldMap {
  static async open(container, { onTap }) {
    const L = await loadLeaflet();
    const picker = new FieldMap(L, container, onTap);
    await picker.drawTerritory();
    return picker;
  }

  constructor(L, container, onTap) {
    this.L = L;
    this.map = L.map(container, { zoomControl: true, maxZoom: 19 });
    this.map.setView([-39.45, -72.77], 14);
    this.shape = L.layerGroup().addTo(this.map);
    this.position = L.layerGroup().addTo(this.map);
    this.map.on("click", (event) => onTap([event.latlng.lng, event.latlng.lat]));
  }

  /** The comuna outline and its micro-barrios, fitted to the settled area. */
  async drawTerritory() {
    const config = await api("GET", "/api/v1/map-config", { auth: false });
    const comuna = config.ok && config.body.comunas && config.body.comunas[0];
    if (!comuna) return;
    const [west, south, east, north] = comuna.settled_bbox || comuna.bbox;
    this.map.fitBounds([[south, west], [north, east]], { animate: false });
    const units = await api("GET", "/api/v1/micro-barrios?comuna=" + comuna.code, { auth: false });
    if (units.ok) this.L.geoJSON(units.body, { style: BASE }).addTo(this.map);
    if (comuna.outline) this.L.geoJSON(comuna.outline, { style: OUTLINE }).addTo(this.map);
  }

  /** Draw the shape being made: [[lon, lat], ...] as a point, a line or an area. */
  drawShape(kind, vertices) {
    const L = this.L;
    this.shape.clearLayers();
    const latlngs = vertices.map(([lon, lat]) => [lat, lon]);
    if (!latlngs.length) return;
    if (kind === "Point") {
      L.circleMarker(latlngs[0], { ...SHAPE, radius: 9, className: "punto-elegido" }).addTo(this.shape);
      return;
    }
    if (kind === "Polygon" && latlngs.length >= 3) L.polygon(latlngs, SHAPE).addTo(this.shape);
    else L.polyline(latlngs, SHAPE).addTo(this.shape);
    for (const ll of latlngs) L.circleMarker(ll, { ...SHAPE, radius: 5, weight: 2 }).addTo(this.shape);
  }

  /** The GPS position with its accuracy (metres) as a circle; centres the map on it. */
  showPosition(lon, lat, accuracy) {
    this.position.clearLayers();
    const L = this.L;
    L.circle([lat, lon], { radius: accuracy, color: "#1d4ed8", weight: 1, fillOpacity: 0.1, interactive: false }).addTo(this.position);
    L.circleMarker([lat, lon], { radius: 5, color: "#1d4ed8", fillOpacity: 1, interactive: false }).addTo(this.position);
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), 17), { animate: false });
  }

  /** Where (pixels inside the container) a [lon, lat] is drawn: for tests and scripts. */
  pixelOf(lon, lat) {
    const point = this.map.latLngToContainerPoint([lat, lon]);
    return [point.x, point.y];
  }
}
