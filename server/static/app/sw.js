// The app's service worker: it caches the shell only (page, script, style, icons), so the
// app opens offline. Personal data never enters the cache: /graphql and the operation ids
// are not handled here at all, and only the listed shell files are ever stored.

const CACHE = "hondana-app-shell-v1";
const SHELL = ["/app/", "/app/static/app.js", "/app/static/app.css", "/app/manifest.webmanifest",
  "/app/static/icon-192.png", "/app/static/icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  // Network first (fresh shell after a release), the cached shell when offline.
  event.respondWith(fetch(event.request).then((response) => {
    const copy = response.clone();
    if (response.ok) caches.open(CACHE).then((cache) => cache.put(event.request, copy));
    return response;
  }).catch(() => caches.match(event.request)));
});
