// What the browser test (e2e.mjs) and the browser benchmark (bench.mjs) share: their
// command-line options, a static server for the built site on 127.0.0.1, and Debian's Chromium
// started headless with the flags this machine's closed network needs.

import { chromium } from "playwright-core";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

/** `--key value` pairs of the command line over `defaults`. */
export function parseOptions(defaults) {
  const options = { ...defaults };
  for (let i = 2; i < process.argv.length; i += 2) {
    options[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
  }
  return options;
}

const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".wasm": "application/wasm",
  ".css": "text/css", ".json": "application/json", ".png": "image/png", ".bpk": "application/octet-stream",
};

/** Serve the directory `dist` on 127.0.0.1 (a free port); resolves to `{ server, base }`. */
export async function serveDist(dist) {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, "http://127.0.0.1");
    let file = path.join(dist, decodeURIComponent(url.pathname));
    if (!file.startsWith(dist)) { response.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    fs.readFile(file, (error, body) => {
      if (error) { response.writeHead(404).end("not found"); return; }
      response.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" }).end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, base: `http://127.0.0.1:${server.address().port}/` };
}

/** Headless Chromium at `executablePath`, with no background network traffic. */
export function launchChromium(executablePath) {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}
