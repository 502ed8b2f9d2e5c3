// Lethe's live-forgetting probe worker: measures models on the probe set (lethe_web's LiveProbe)
// on the machine's other core, so the trainer worker never waits for it. Models arrive as
// Burnpack bytes over the MessageChannel `port` from live-worker.js ({of: "original" | "step",
// step?, weights}); the shipped native run is fetched here. Results go to the page as JSON
// messages, in order.
//
// Messages in: {type: "start", probe, model, forgetClass, nativeWeights?, port}.
import init, { LiveProbe } from "./pkg/lethe_web.js";

const fail = (message) => postMessage(JSON.stringify({ kind: "failed", message: `probe worker: ${message}` }));

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// One measurement at a time, in arrival order.
let queue = Promise.resolve();
const enqueue = (job) => { queue = queue.then(job).catch(fail); };

self.onmessage = (event) => {
  const start = event.data;
  if (start.type !== "start") { fail(`unknown message ${start.type}`); return; }
  const ready = (async () => {
    await init();
    return new LiveProbe(await fetchBytes(start.probe), start.model, start.forgetClass);
  })();
  enqueue(() => ready.then(() => {}));
  start.port.onmessage = ({ data }) => enqueue(async () => {
    const probe = await ready;
    postMessage(data.of === "original" ? await probe.original(data.weights) : await probe.step(data.weights, data.step));
  });
  if (start.nativeWeights) {
    enqueue(async () => {
      const probe = await ready;
      postMessage(await probe.native(await fetchBytes(start.nativeWeights)));
    });
  }
};
