import { describeValue, MoEArgumentError, type ExpertBank } from '@moekit/core';
import type { MoELayer } from './moe-layer.js';

/*
 * Experts shared across layers (Bai et al. 2022, "Parameter-Efficient Conformers via Sharing
 * Sparsely-Gated Experts for End-to-End Speech Recognition", https://arxiv.org/abs/2209.08326,
 * §2.3: the grouped blocks share their parameters, each keeps its own MoE router and normalisation).
 * The ownership rule: the first `MoELayer` constructed with a bank owns it — it forwards the bank's
 * variables as its weights, so `countParams`, `trainableWeights`, `fit` and `save` see them once, and
 * its config holds the bank — while every later layer with the same bank instance only names the
 * owner (`experts: { sharedWith: { name } }`). The bank is released with its last user.
 */

/** The owner and the live users of one bank. */
interface BankUsers {
  owner: MoELayer;
  users: Set<MoELayer>;
}

const bankUsers = new WeakMap<ExpertBank, BankUsers>();
// owners by layer name, for a saved `{ sharedWith: { name } }`: the latest owner of that name (a model loads its layers in order, synchronously)
const ownersByName = new Map<string, WeakRef<MoELayer>>();

/** Counts `layer` as a user of `bank`; the first user (or the first after all released it) owns it. */
export function useBank(bank: ExpertBank, layer: MoELayer): void {
  let entry = bankUsers.get(bank);
  if (entry === undefined || entry.users.size === 0) bankUsers.set(bank, (entry = { owner: layer, users: new Set() }));
  entry.users.add(layer);
  if (entry.owner === layer) ownersByName.set(layer.name, new WeakRef(layer));
}

/** The layer that owns `bank` (forwards and saves its variables), if any. */
export function bankOwner(bank: ExpertBank): MoELayer | undefined {
  return bankUsers.get(bank)?.owner;
}

/** Removes `layer` from `bank`'s users; true while other layers still use the bank (it must stay alive). */
export function leaveBank(bank: ExpertBank, layer: MoELayer): boolean {
  const entry = bankUsers.get(bank);
  entry?.users.delete(layer);
  return entry !== undefined && entry.users.size > 0;
}

/**
 * The bank of the owner named by a saved `{ sharedWith: { name } }` (the name sits under `name`:
 * tfjs-layers camel-cases every other string value on load), or `undefined` for a bank saved whole.
 */
export function sharedBankFromConfig(config: unknown): ExpertBank | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const ref = (config as Record<string, unknown>)['sharedWith'] ?? (config as Record<string, unknown>)['shared_with']; // snake case as saved
  if (ref === undefined) return undefined;
  const name = typeof ref === 'object' && ref !== null ? (ref as { name?: unknown }).name : ref;
  const owner = typeof name === 'string' ? ownersByName.get(name)?.deref() : undefined;
  if (owner === undefined || owner.moe.isDisposed) {
    throw new MoEArgumentError('MoELayer.fromConfig', 'experts.sharedWith', 'the name of a live MoELayer loaded before this one that owns the bank', describeValue(name));
  }
  return owner.experts;
}
