// Lethe's live-forgetting trainer worker: runs PruneLoRA (lethe_web's LiveSession, the trainer's
// own code compiled to wasm) one step at a time off the page's main thread. It only schedules:
// every number comes from the wasm session as a JSON message, forwarded to the page as is.
// Probe-set measurements run in live-probe-worker.js (the other core): on the CPU this worker
// sends it a snapshot of the model every `evaluate_every` steps over the MessageChannel `port`;
// on WebGPU it measures here, on the GPU.
//
// Messages in: {type: "start", weights, model, train, probe, settings, image, preferGpu, port},
// {type: "pause"}, {type: "resume"}, {type: "image", image}. Cancelling is the page terminating
// this worker.
import init, { LiveSession } from "./pkg/lethe_web.js";

let session = null;
let paused = false;
let wake = null;

const fail = (message) => postMessage(JSON.stringify({ kind: "failed", message: String(message) }));

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// Yield to the event loop (a macrotask), so pause / image messages are handled between steps.
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

async function run(start) {
  await init();
  const [weights, train, probe] = await Promise.all([
    fetchBytes(start.weights), fetchBytes(start.train), fetchBytes(start.probe)]);
  // The original model, measured by the probe worker while this one prunes.
  start.port.postMessage({ of: "original", weights: weights.slice() });
  // WebGPU when this worker's browser offers it (the session falls back to the CPU when no
  // adapter comes), unless the page was opened with ?backend=cpu.
  const preferGpu = start.preferGpu && "gpu" in navigator;
  session = await LiveSession.create(weights, start.model, train, probe, start.settings, start.image, preferGpu);
  postMessage(session.started());
  const measure = async () => {
    if (session.on_cpu()) {
      const snapshot = session.snapshot();
      start.port.postMessage({ of: "step", step: session.steps_done(), weights: snapshot }, [snapshot.buffer]);
    } else {
      postMessage(await session.probe());
    }
  };
  await measure(); // the pruned model, step 0
  while (!session.is_done()) {
    await breathe();
    if (paused) await new Promise((resolve) => { wake = resolve; });
    postMessage(await session.step());
    if (session.evaluation_due()) await measure();
  }
  postMessage(session.finish());
}

self.onmessage = (event) => {
  const message = event.data;
  switch (message.type) {
    case "start":
      run(message).catch(fail);
      break;
    case "pause":
      paused = true;
      break;
    case "resume":
      paused = false;
      if (wake) { wake(); wake = null; }
      break;
    case "image":
      if (session) session.set_image(message.image);
      break;
    default:
      fail(`unknown message ${message.type}`);
  }
};
