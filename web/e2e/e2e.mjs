// End-to-end test of Lethe's browser demo in Debian's headless Chromium (driven by
// playwright-core, which downloads no browser).
//
//   node web/e2e/e2e.mjs --dist web/dist --lethe <path to the native lethe binary> \
//     [--artifacts ci-artifacts] [--chromium /usr/bin/chromium]
//
// It serves the built site on 127.0.0.1 and checks, failing with a non-zero exit code:
//  1. the page loads and shows its backend, with no console errors;
//  2. for every shipped test image of the forgotten class, the unlearned model's top class is not
//     that class, and for at least one of them the original model's top class is;
//  3. the page's probabilities equal `lethe predict --json` (native, same weights, same PNG)
//     within 1e-4, for every image classified;
//  4. uploading a PNG (96×64, centre-cropped and resized) classifies it, also matching native;
//  5. uploading a non-image shows the error text and keeps the page alive;
//  6. damaged weights and a missing catalogue show messages inside the page's error boundary;
//  7. every unlearned run the catalogue lists, picked in the page, loads and predicts like native,
//     and the page shows its catalogue note (how it was made).
// It measures inference time per image (the page's own figure) and writes a screenshot and a
// JSON report into the artifacts directory.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { launchChromium, parseOptions, serveDist } from "./harness.mjs";

const options = parseOptions({ dist: "web/dist", artifacts: "ci-artifacts", chromium: "/usr/bin/chromium", lethe: null });
if (!options.lethe) throw new Error("pass --lethe <path to the native lethe binary>");
const dist = path.resolve(options.dist);
const here = path.dirname(new URL(import.meta.url).pathname);
fs.mkdirSync(options.artifacts, { recursive: true });

const TOLERANCE = 1e-4;
const failures = [];
const check = (condition, message) => {
  console.log(`${condition ? "ok  " : "FAIL"} ${message}`);
  if (!condition) failures.push(message);
};

// --- a static server on 127.0.0.1 ---------------------------------------------------------
const { server, base } = await serveDist(dist);
console.log(`serving ${dist} at ${base}`);

// --- native reference probabilities --------------------------------------------------------
function nativeProbabilities(runId, files) {
  const output = execFileSync(options.lethe, ["predict", "--json", "--backend", "cpu",
    "--weights", path.join(dist, "models", runId), ...files], { encoding: "utf8", maxBuffer: 1 << 26 });
  return new Map(JSON.parse(output).map((p) => [path.basename(p.image), p.probabilities]));
}
const maxDifference = (a, b) =>
  a.length !== b.length ? Infinity : Math.max(...a.map((value, i) => Math.abs(value - b[i])));

const browser = await launchChromium(options.chromium);
const report = { images: [], timings_ms: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const consoleErrors = [];
  page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
  page.on("pageerror", (error) => consoleErrors.push(error.message));

  const loadStarted = Date.now();
  await page.goto(base);
  await page.waitForSelector("#backend", { timeout: 60_000 });
  report.backend = await page.getAttribute("#backend", "data-backend");
  console.log(`backend: ${report.backend} (${await page.textContent(".backend-reason")})`);
  await page.waitForSelector(".columns[data-image]", { timeout: 120_000 });
  report.first_result_ms = Date.now() - loadStarted;
  check(true, `page loaded and classified its first image in ${report.first_result_ms} ms`);

  const catalog = JSON.parse(fs.readFileSync(path.join(dist, "models/index.json"), "utf8"));
  const samplesOf = (dataset) =>
    JSON.parse(fs.readFileSync(path.join(dist, "samples", dataset, "index.json"), "utf8"));
  const originalId = await page.inputValue("#model-select");
  const samples = samplesOf(catalog.runs.find((run) => run.id === originalId).model.dataset);
  const unlearnedId = await page.inputValue("#method-select");
  const unlearned = catalog.runs.find((run) => run.id === unlearnedId);
  const forgotten = unlearned.forgotten_classes[0];
  report.original = originalId;
  report.unlearned = unlearnedId;
  console.log(`comparing ${originalId} with ${unlearnedId} (forgot class ${forgotten})`);

  const forgottenSamples = samples.samples.filter((sample) => sample.label === forgotten);
  check(forgottenSamples.length > 0, `${forgottenSamples.length} shipped test images of the forgotten class`);
  const sampleFiles = forgottenSamples.map((sample) => path.join(dist, sample.file));
  const fixture = path.join(here, "fixtures/upload.png");
  const nativeOriginal = nativeProbabilities(originalId, [...sampleFiles, fixture]);
  const nativeUnlearned = nativeProbabilities(unlearnedId, [...sampleFiles, fixture]);

  async function readResult(imageName) {
    const columns = `.columns[data-image="${imageName}"]`;
    await page.waitForSelector(columns, { timeout: 60_000 });
    const read = async (key) => ({
      probabilities: JSON.parse(await page.getAttribute(`${columns} #${key}-probs`, "data-probs")),
      predicted: Number(await page.getAttribute(`${columns} #${key}-predicted`, "data-class")),
      ms: Number(await page.getAttribute(`${columns} #${key}-ms`, "data-ms")),
    });
    return { original: await read("original"), unlearned: await read("unlearned") };
  }

  function compareWithNative(name, result) {
    const differences = [
      maxDifference(result.original.probabilities, nativeOriginal.get(name)),
      maxDifference(result.unlearned.probabilities, nativeUnlearned.get(name)),
    ];
    const worst = Math.max(...differences);
    check(worst <= TOLERANCE, `${name}: browser vs native probabilities differ by at most ${worst.toExponential(2)}`);
    report.timings_ms.push(result.original.ms, result.unlearned.ms);
    report.images.push({ name, original: result.original.predicted, unlearned: result.unlearned.predicted,
      max_abs_difference: worst, ms: [result.original.ms, result.unlearned.ms] });
  }

  // 2 + 3: every shipped image of the forgotten class.
  await page.selectOption("#class-filter", String(forgotten));
  let originalRight = null;
  for (const sample of forgottenSamples) {
    const name = path.basename(sample.file);
    await page.click(`button.thumb[data-file="${sample.file}"]`);
    const result = await readResult(name);
    compareWithNative(name, result);
    check(result.unlearned.predicted !== forgotten,
      `${name}: the unlearned model does not predict the forgotten class (predicts ${result.unlearned.predicted})`);
    if (result.original.predicted === forgotten && originalRight === null) originalRight = sample;
  }
  check(originalRight !== null, "the original model recognises at least one shipped image of the forgotten class"
    + (originalRight ? ` (${path.basename(originalRight.file)})` : ""));

  // 4: upload a PNG of another size.
  await page.setInputFiles("#upload", fixture);
  const uploaded = await readResult("upload.png");
  compareWithNative("upload.png", uploaded);
  const caption = await page.textContent("#preview-caption");
  check(caption.includes("96×64 → 32×32"), `uploaded PNG shown as the model sees it ("${caption}")`);

  // 5: a non-image.
  await page.setInputFiles("#upload", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a picture") });
  await page.waitForFunction(() => document.querySelector("#upload-error")?.textContent.includes("not an image"), null, { timeout: 10_000 });
  check(true, `non-image upload refused: "${await page.textContent("#upload-error")}"`);
  check(await page.isVisible(".columns[data-image]"), "the page still shows the last comparison");

  // 7: every unlearned run of the catalogue, picked in the page like a user would (model,
  // forgotten classes, method): it loads, classifies a shipped test image of its forgotten class
  // like native `lethe predict`, and, when its UA is ≥ 99.5, does not predict the forgotten class.
  report.runs = [];
  for (const run of catalog.runs.filter((candidate) => candidate.original)) {
    const original = catalog.runs.find((candidate) => candidate.id === run.original);
    const forgottenClass = run.forgotten_classes[0];
    const sample = samplesOf(original.model.dataset).samples.find((s) => s.label === forgottenClass);
    if (!sample) { check(false, `${run.id}: no shipped sample of class ${forgottenClass}`); continue; }
    const name = path.basename(sample.file);
    if ((await page.inputValue("#model-select")) !== original.id) {
      await page.selectOption("#model-select", original.id);
    }
    const setIndex = await page.$$eval("#forget-select option", (options, classes) =>
      options.findIndex((option) => option.dataset.classes === classes), run.forgotten_classes.join(","));
    if (setIndex < 0) { check(false, `${run.id}: its forgotten classes are not offered`); continue; }
    await page.selectOption("#forget-select", String(setIndex));
    await page.selectOption("#method-select", run.id);
    await page.selectOption("#class-filter", String(forgottenClass));
    await page.click(`button.thumb[data-file="${sample.file}"]`, { timeout: 60_000 });
    const columns = `.columns[data-image="${name}"][data-original="${original.id}"][data-unlearned="${run.id}"]`;
    await page.waitForSelector(columns, { timeout: 120_000 });
    const read = async (key) => ({
      probabilities: JSON.parse(await page.getAttribute(`${columns} #${key}-probs`, "data-probs")),
      predicted: Number(await page.getAttribute(`${columns} #${key}-predicted`, "data-class")),
      ms: Number(await page.getAttribute(`${columns} #${key}-ms`, "data-ms")),
    });
    const [before, after] = [await read("original"), await read("unlearned")];
    const shownNote = await page.textContent(`#run-notes li[data-run="${run.id}"]`, { timeout: 10_000 });
    check(shownNote?.includes(run.note), `${run.id}: the page shows how it was made ("${run.note.slice(0, 60)}…")`);
    const file = path.join(dist, sample.file);
    const worst = Math.max(
      maxDifference(before.probabilities, nativeProbabilities(original.id, [file]).get(name)),
      maxDifference(after.probabilities, nativeProbabilities(run.id, [file]).get(name)));
    check(worst <= TOLERANCE, `${run.id} on ${name}: loads, predicts class ${after.predicted}; browser vs native differ by at most ${worst.toExponential(2)}`);
    if ((run.metrics.ua ?? 0) >= 99.5) {
      check(after.predicted !== forgottenClass, `${run.id} (UA ${run.metrics.ua.toFixed(2)}) does not predict the forgotten class on ${name}`);
    }
    report.runs.push({ id: run.id, image: name, original_predicted: before.predicted,
      unlearned_predicted: after.predicted, max_abs_difference: worst, ms: after.ms });
  }
  check(report.runs.length === catalog.runs.filter((run) => run.original).length,
    `all ${report.runs.length} unlearned runs of the catalogue loaded and predicted in the page`);
  await page.selectOption("#model-select", originalId);
  await page.selectOption("#method-select", unlearnedId).catch(() => {});

  // Screenshot: a forgotten-class image the original recognised.
  if (originalRight) {
    await page.click(`button.thumb[data-file="${originalRight.file}"]`, { timeout: 60_000 });
    await page.waitForSelector(`.columns[data-image="${path.basename(originalRight.file)}"]`
      + `[data-unlearned="${unlearnedId}"]`, { timeout: 60_000 });
  }
  await page.screenshot({ path: path.join(options.artifacts, "demo.png"), fullPage: true });

  // 1: no console errors on the main page.
  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? `: ${consoleErrors.join(" | ")}` : ""}`);

  // 6a: damaged weights (right size, garbage bytes) → message in the error boundary.
  const damaged = await browser.newPage();
  await damaged.route("**/model.bpk", async (route) => {
    const id = route.request().url().split("/models/")[1].split("/")[0];
    const size = catalog.runs.find((run) => run.id === id).weights_bytes;
    await route.fulfill({ status: 200, body: Buffer.alloc(size, 7) });
  });
  await damaged.goto(base);
  await damaged.waitForFunction(() => [...document.querySelectorAll(".error-text")]
    .some((node) => node.textContent.includes("cannot be used")), null, { timeout: 60_000 });
  check(true, `damaged weights: "${(await damaged.textContent(".error .error-text")).trim()}"`);
  await damaged.close();

  // 6b: a missing catalogue.
  const missing = await browser.newPage();
  await missing.route("**/models/index.json", (route) => route.fulfill({ status: 404, body: "gone" }));
  await missing.goto(base);
  await missing.waitForFunction(() => [...document.querySelectorAll(".error-text")]
    .some((node) => node.textContent.includes("models/index.json")), null, { timeout: 60_000 });
  check(true, `missing catalogue: "${(await missing.textContent(".error .error-text")).trim()}"`);
  await missing.close();

  // Inference time: the page's own measurement, first classification (weights just loaded,
  // kernels cold) excluded.
  const warm = report.timings_ms.slice(2).sort((a, b) => a - b);
  report.inference_ms_median = warm[Math.floor(warm.length / 2)];
  report.inference_ms_min = warm[0];
  report.inference_ms_max = warm[warm.length - 1];
  console.log(`inference per image on ${report.backend}: median ${report.inference_ms_median.toFixed(2)} ms ` +
    `(min ${report.inference_ms_min.toFixed(2)}, max ${report.inference_ms_max.toFixed(2)}, ${warm.length} runs)`);
} catch (error) {
  failures.push(String(error?.stack ?? error));
  console.error(error);
} finally {
  await browser.close();
  server.close();
}
report.failures = failures;
fs.writeFileSync(path.join(options.artifacts, "e2e-report.json"), JSON.stringify(report, null, 2));
console.log(`report and screenshot in ${options.artifacts}/`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("browser end-to-end test passed");
