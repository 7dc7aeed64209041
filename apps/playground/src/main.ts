// The page: picks a backend, loads the MNIST asset, and trains the chosen MoE (or the dense baseline)
// on the visitor's click, redrawing the plots after every step. State the browser test reads is kept
// in data attributes: body[data-state], #loss-plot[data-losses], #load-plot[data-updates].
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '@moekit/platform';
import { decodeMnistSubset } from './mnist-subset.js';
import { drawBars, drawHeatmap, drawLines, type Series } from './plots.js';
import { DenseClassifier, MoEClassifier, effectiveK, routerInfo, routerKinds, type Classifier, type MoEModelArgs, type RouterKind } from './playground-model.js';
import { mnistTensors, train, type MnistTensors, type TrainProgress } from './trainer.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = $('status');
const plots = {
  loss: $<HTMLCanvasElement>('loss-plot'),
  accuracy: $<HTMLCanvasElement>('accuracy-plot'),
  load: $<HTMLCanvasElement>('load-plot'),
  expertClass: $<HTMLCanvasElement>('expert-class-plot'),
};
const buttons = { moe: $<HTMLButtonElement>('train-moe'), dense: $<HTMLButtonElement>('train-dense'), stop: $<HTMLButtonElement>('stop') };
const params = new URLSearchParams(location.search);
const runs: { moe?: TrainProgress; dense?: TrainProgress; moeLabel?: string } = {};
let stopRequested = false;
let loadUpdates = 0;

/** webgpu, webgl, wasm, cpu — the first that runs here (`?backend=cpu` forces one). */
async function startBackend(): Promise<string> {
  const forced = params.get('backend') as BackendName | null;
  try {
    const choice = await selectBackend(forced ? { prefer: [forced] } : {});
    return `${choice.backend} — ${choice.reason}`;
  } catch (error) {
    // selectBackend could not run in this bundle: tfjs's own order over the backends it carries
    for (const name of forced ? [forced] : ['webgl', 'cpu']) {
      if (await tf.setBackend(name).catch(() => false)) return `${name} (tfjs directly: ${error instanceof Error ? error.message : String(error)})`;
    }
    throw error;
  }
}

function modelArgs(): MoEModelArgs {
  const num = (id: string) => Number(($(id) as HTMLInputElement).value);
  return { router: ($('router') as HTMLSelectElement).value as RouterKind, numExperts: num('experts'), k: num('k'), capacityFactor: num('capacity'), hiddenDim: num('hidden'), seed: 1 };
}

function redraw(): void {
  const lossSeries: Series[] = [];
  const accuracySeries: Series[] = [];
  if (runs.moe) {
    lossSeries.push({ label: runs.moeLabel ?? 'MoE', color: '#3b7dd8', points: runs.moe.losses.map((l, i) => [i + 1, l]) });
    accuracySeries.push({ label: runs.moeLabel ?? 'MoE', color: '#3b7dd8', points: runs.moe.accuracies });
  }
  if (runs.dense) {
    lossSeries.push({ label: 'dense', color: '#d8733b', points: runs.dense.losses.map((l, i) => [i + 1, l]) });
    accuracySeries.push({ label: 'dense', color: '#d8733b', points: runs.dense.accuracies });
  }
  drawLines(plots.loss, 'training loss (cross-entropy)', lossSeries);
  drawLines(plots.accuracy, 'test accuracy (500 images)', accuracySeries, [0, 1]);
  drawBars(plots.load, 'load per expert (share of this step’s pairs; dashed: 1/E)', runs.moe?.load ?? []);
  drawHeatmap(plots.expertClass, 'expert × digit: where the router sends each digit (test set)', runs.moe?.expertClass ?? []);
  plots.loss.dataset['losses'] = JSON.stringify(runs.moe?.losses ?? []);
  plots.loss.dataset['denseLosses'] = JSON.stringify(runs.dense?.losses ?? []);
  plots.load.dataset['load'] = JSON.stringify(runs.moe?.load ?? []);
  plots.load.dataset['updates'] = String(loadUpdates);
}

async function run(kind: 'moe' | 'dense', data: MnistTensors): Promise<void> {
  const args = modelArgs();
  buttons.moe.disabled = buttons.dense.disabled = true;
  status.textContent = `Starting the ${kind === 'moe' ? 'MoE' : 'dense model'} (the first steps compile the backend's kernels)…`;
  await tf.nextFrame(); // let the click return and the status paint before the first (blocking) step
  let model: Classifier;
  try {
    model = kind === 'moe' ? new MoEClassifier(args) : new DenseClassifier(effectiveK(args) * args.hiddenDim, args.seed);
  } catch (error) {
    status.textContent = error instanceof Error ? error.message : String(error); // a bad setting, named by moekit
    buttons.moe.disabled = buttons.dense.disabled = false;
    return;
  }
  const label = kind === 'moe' ? `MoE ${args.router} E=${args.numExperts} k=${effectiveK(args)}` : `dense ${model.activeHidden} hidden`;
  if (kind === 'moe') runs.moeLabel = label;
  stopRequested = false;
  buttons.stop.disabled = false;
  document.body.dataset['state'] = 'training';
  const steps = Number(($('steps') as HTMLInputElement).value);
  const started = performance.now();
  try {
    await train(model, data, {
      steps,
      batchSize: 64,
      learningRate: 0.005,
      evalEvery: 10,
      shouldStop: () => stopRequested,
      yieldToPage: () => tf.nextFrame(),
      onProgress: (progress) => {
        runs[kind] = progress;
        if (progress.load) loadUpdates++;
        redraw();
        const accuracy = progress.accuracies.at(-1)?.[1];
        const perStep = (performance.now() - started) / progress.step;
        status.textContent = `${label}: step ${progress.step}/${steps}, loss ${progress.losses.at(-1)!.toFixed(3)}` + (accuracy === undefined ? '' : `, test accuracy ${(100 * accuracy).toFixed(1)} %`) + ` — ${perStep.toFixed(0)} ms/step on ${tf.getBackend()}, ${model.activeHidden} active hidden units`;
      },
    });
  } finally {
    model.dispose();
    buttons.moe.disabled = buttons.dense.disabled = false;
    buttons.stop.disabled = true;
    document.body.dataset['state'] = 'done';
  }
}

async function main(): Promise<void> {
  const select = $<HTMLSelectElement>('router');
  for (const kind of routerKinds) select.add(new Option(routerInfo[kind].label, kind));
  const syncInputs = (): void => {
    const info = routerInfo[select.value as RouterKind];
    ($('k') as HTMLInputElement).disabled = !info.usesK;
    ($('capacity') as HTMLInputElement).disabled = !info.usesCapacity;
  };
  select.addEventListener('change', syncInputs);
  syncInputs();
  const steps = params.get('steps');
  if (steps) ($('steps') as HTMLInputElement).value = steps;
  const backend = await startBackend();
  const response = await fetch(new URL('mnist-subset.bin', document.baseURI));
  if (!response.ok) throw new Error(`mnist-subset.bin: HTTP ${response.status}`);
  const data = mnistTensors(decodeMnistSubset(await response.arrayBuffer()));
  status.textContent = `Ready: ${data.trainCount} training images on ${backend}.`;
  buttons.moe.disabled = buttons.dense.disabled = false;
  buttons.moe.addEventListener('click', () => void run('moe', data).catch(fail));
  buttons.dense.addEventListener('click', () => void run('dense', data).catch(fail));
  buttons.stop.addEventListener('click', () => (stopRequested = true));
  redraw();
  document.body.dataset['state'] = 'ready';
}

function fail(error: unknown): void {
  document.body.dataset['state'] = 'error';
  status.textContent = `Error: ${error instanceof Error ? error.message : String(error)}`;
  console.error(error);
}

main().catch(fail);
