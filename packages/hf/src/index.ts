/**
 * `@moekit/hf`: the way from moekit to the PyTorch MoE engines and back: a safetensors reader and
 * writer, and Hugging Face checkpoint layouts for moekit's MoE blocks.
 *
 * @module @moekit/hf
 */
export {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsHeader,
  type DecodedSafetensors,
  type DecodeSafetensorsOptions,
  type EncodeSafetensorsOptions,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsFloatDtype,
  type SafetensorsHeader,
} from './safetensors.js';
export { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from './half-precision.js';
export { readMixtralConfig, readSwitchTransformersConfig, type MixtralMoEConfigJson, type SwitchTransformersMoEConfigJson } from './hf-config.js';
export { checkMixtralExportable, loadMixtralSparseMoe, mixtralConfig, mixtralSparseMoe, mixtralSparseMoeTensors, type MixtralSparseMoeOptions } from './mixtral-sparse-moe.js';
export {
  checkSwitchExportable,
  loadSwitchSparseMlp,
  switchSparseMlp,
  switchSparseMlpTensors,
  switchTransformersConfig,
  type SwitchSparseMlpOptions,
  type SwitchTransformersConfigOptions,
} from './switch-sparse-mlp.js';
export { loadMixtralCheckpoint, mixtralArgsFromHfConfig, mixtralCheckpointTensors, mixtralFromCheckpoint, mixtralHfConfig, type MixtralHfConfig } from './mixtral-checkpoint.js';
