// Browser inference benchmark (issue 6): per-image latency of the demo's models in headless
// Chromium, as measured by the page itself, plus an optional CPU profile of the page's wasm.
//
//   node web/e2e/bench.mjs --dist web/dist [--backend cpu] [--images 60] [--profile out.json]
//     [--query batchnorm=unfolded] [--chromium /usr/bin/chromium]
//
// It serves the built site on 127.0.0.1, opens it (with `?backend=cpu` by default, the CPU-wasm
// path), clicks through `--images` shipped test images (each one runs the original and the
// unlearned model once) and prints one JSON line with the median, min and max per-image time,
// the same keys as `lethe bench` (`model`, `op`, `batch`, `median_ms`, ...). With `--profile` it
// also records a V8 CPU profile (100 µs sampling) over the timed clicks and writes the self time
// of the 40 heaviest functions (wasm function names from the module's name section) to that file.
// `--query` adds page parameters (`batchnorm=unfolded` keeps BatchNorm apart from the
// convolutions, to measure what folding saves). Not a test: nothing fails on a slow figure.

import fs from "node:fs";
import path from "node:path";
import { launchChromium, parseOptions, serveDist } from "./harness.mjs";

const options = parseOptions({ dist: "web/dist", backend: "cpu", images: "60", chromium: "/usr/bin/chromium", profile: null, query: "" });
const dist = path.resolve(options.dist);
const imageCount = Number(options.images);
if (!Number.isInteger(imageCount) || imageCount < 2) throw new Error("--images must be an integer ≥ 2");

const { server, base } = await serveDist(dist);

const browser = await launchChromium(options.chromium);
let exitCode = 0;
try {
  const page = await browser.newPage();
  const query = [options.backend === "cpu" ? "backend=cpu" : "", options.query].filter(Boolean).join("&");
  await page.goto(query ? `${base}?${query}` : base);
  await page.waitForSelector(".columns[data-image]", { timeout: 120_000 });
  const backend = await page.getAttribute("#backend", "data-backend");
  const originalId = await page.inputValue("#model-select");
  const unlearnedId = await page.inputValue("#method-select");
  const catalog = JSON.parse(fs.readFileSync(path.join(dist, "models/index.json"), "utf8"));
  const dataset = catalog.runs.find((run) => run.id === originalId).model.dataset;
  const samples = JSON.parse(fs.readFileSync(path.join(dist, "samples", dataset, "index.json"), "utf8")).samples;
  await page.selectOption("#class-filter", "all").catch(() => {});

  let cdp = null;
  if (options.profile) {
    cdp = await page.context().newCDPSession(page);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
    await cdp.send("Profiler.start");
  }
  const times = [];
  for (const sample of samples.slice(0, imageCount)) {
    const name = path.basename(sample.file);
    await page.click(`button.thumb[data-file="${sample.file}"]`, { timeout: 60_000 });
    const columns = `.columns[data-image="${name}"]`;
    await page.waitForSelector(columns, { timeout: 60_000 });
    for (const key of ["original", "unlearned"]) {
      times.push(Number(await page.getAttribute(`${columns} #${key}-ms`, "data-ms")));
    }
  }
  if (cdp) {
    const { profile } = await cdp.send("Profiler.stop");
    const selfMs = new Map();
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const interval = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
    for (const id of profile.samples) {
      const frame = nodes.get(id).callFrame;
      const key = frame.functionName || `(anonymous ${frame.url.split("/").pop()}:${frame.lineNumber})`;
      selfMs.set(key, (selfMs.get(key) ?? 0) + interval);
    }
    const total = [...selfMs.values()].reduce((a, b) => a + b, 0);
    const top = [...selfMs.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)
      .map(([name, ms]) => ({ name, self_ms: Number(ms.toFixed(1)), share: Number((ms / total).toFixed(4)) }));
    fs.writeFileSync(options.profile, JSON.stringify({ total_ms: total, functions: top }, null, 2));
  }
  // The first click after load may still compile kernels: drop its two timings.
  const warm = times.slice(2).sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)];
  console.log(JSON.stringify({
    model: originalId, unlearned: unlearnedId, op: "browser-infer", batch: 1, backend,
    median_ms: median, min_ms: warm[0], max_ms: warm[warm.length - 1], images_per_s: 1000 / median,
    repeats: warm.length, query, chromium: browser.version(),
  }));
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
process.exit(exitCode);
