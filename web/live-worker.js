// Lethe's live-forgetting trainer worker: runs PruneLoRA (lethe_web's LiveSession, the trainer's
// own code compiled to wasm) one step at a time off the page's main thread. It only schedules:
// every number comes from the wasm session as a JSON message, forwarded to the page as is.
// Probe-set measurements run in live-probe-worker.js (the other core): on the CPU this worker
// sends it a snapshot of the model every `evaluate_every` steps over the MessageChannel `port`;
// on WebGPU it measures here, on the GPU.
//
// On the CPU a second copy of this worker (role "helper", on another core) takes half of every
// mini-batch: both compute gradients on their half, exchange them over the MessageChannel
// `peer` and apply the same average (LiveSession.gradients / apply), so they stay in lock-step.
// The leader reports to the page; the helper only trains.
//
// Messages in: {type: "start", role: "leader" | "helper", weights, model, train, probe,
// settings, image, preferGpu, port (leader), peer?}, {type: "pause"}, {type: "resume"},
// {type: "image", image}. Cancelling is the page terminating this worker.
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

// Messages from the other trainer, in order.
function inbox(port) {
  const waiting = [];
  const arrived = [];
  port.onmessage = ({ data }) => (waiting.length ? waiting.shift()(data) : arrived.push(data));
  return () => (arrived.length ? Promise.resolve(arrived.shift()) : new Promise((resolve) => waiting.push(resolve)));
}

async function run(start) {
  await init();
  const [weights, train, probe] = await Promise.all([
    fetchBytes(start.weights), fetchBytes(start.train), fetchBytes(start.probe)]);
  const fromPeer = start.peer ? inbox(start.peer) : null;
  if (start.role === "helper") return help(start, weights, train, probe, fromPeer);
  // The original model, measured by the probe worker while this one prunes.
  start.port.postMessage({ of: "original", weights: weights.slice() });
  // WebGPU when this worker's browser offers it (the session falls back to the CPU when no
  // adapter comes), unless the page was opened with ?backend=cpu.
  const preferGpu = start.preferGpu && "gpu" in navigator;
  session = await LiveSession.create(weights, start.model, train, probe, start.settings, start.image, preferGpu);
  const parallel = Boolean(start.peer) && session.on_cpu();
  if (start.peer) start.peer.postMessage({ join: parallel });
  if (parallel) session.set_replica(0, 2);
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
    if (parallel) {
      const own = await session.gradients();
      start.peer.postMessage(own.slice());
      const other = await fromPeer();
      if (other.failed) throw new Error(other.failed);
      postMessage(await session.apply(own, other, true));
    } else {
      postMessage(await session.step());
    }
    if (session.evaluation_due()) await measure();
  }
  postMessage(session.finish());
}

// The helper: replica 1 of 2, on the CPU, until the step budget is spent.
async function help(start, weights, train, probe, fromPeer) {
  const { join } = await fromPeer();
  if (!join) return;
  session = await LiveSession.create(weights, start.model, train, probe, start.settings, start.image, false);
  session.set_replica(1, 2);
  while (!session.is_done()) {
    let own;
    try {
      own = await session.gradients();
    } catch (error) {
      start.peer.postMessage({ failed: String(error) });
      throw error;
    }
    start.peer.postMessage(own.slice());
    const other = await fromPeer();
    const failure = await session.apply(other, own, false);
    if (failure) throw new Error(failure);
  }
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
