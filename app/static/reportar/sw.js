/* The field form's service worker (served as /reportar-sw.js, scope /reportar): it keeps the
 * page's own files so /reportar opens with no signal. API calls are never intercepted: the
 * page's outbox (cola.js) decides what is sent and when, with its Idempotency-Key. Leaflet is
 * kept once the officer has opened the map (it is not part of the first load). */
"use strict";
const CACHE = "vigia-campo-v1";
const SHELL = [
  "/reportar",
  "/static/reportar/reportar.css",
  "/static/reportar/reportar.js",
  "/static/reportar/cola.js",
  "/static/reportar/fotos.js",
  "/static/reportar/listas.js",
  "/static/reportar/mapa.js",
  "/static/comun/api.js",
  "/static/reportar/manifest.webmanifest",
  "/static/reportar/icono-192.png",
  "/static/icono.svg",
];
const KEEP_WHEN_USED = ["/static/vendor/leaflet/"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

/* Network first (the newest page when there is signal), the kept copy when there is none. */
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  const path = url.pathname;
  const kept = SHELL.includes(path) || KEEP_WHEN_USED.some((prefix) => path.startsWith(prefix));
  if (!kept) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(path, copy));
        }
        return response;
      })
      .catch(() => caches.match(path).then((hit) => hit || Response.error()))
  );
});
