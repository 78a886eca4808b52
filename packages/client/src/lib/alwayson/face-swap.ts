/**
 * Roop and ReActor face-swap arguments for `alwayson_scripts` (keys `roop`, `reactor`): positional lists that
 * start with the source face image. Order and defaults as webuiapi's Roop/ReActor classes
 * (mix1009/sdwebuiapi@ce232f0 webuiapi.py, MIT), which send the image as a data URL.
 */
import { type ImageInput, imageToDataURL } from '../images.ts';

export interface RoopOptions {
  image: ImageInput;
  enable?: boolean;
  faces_index?: string;
  model?: string | null;
  face_restorer_name?: string;
  face_restorer_visibility?: number;
  upscaler_name?: string;
  upscaler_scale?: number;
  upscaler_visibility?: number;
  swap_in_source?: boolean;
  swap_in_generated?: boolean;
}

export async function roop(o: RoopOptions): Promise<{ roop: { args: unknown[] } }> {
  const args = [
    await imageToDataURL(o.image),
    o.enable ?? true,
    o.faces_index ?? '0',
    o.model ?? null,
    o.face_restorer_name ?? 'GFPGAN',
    o.face_restorer_visibility ?? 1,
    o.upscaler_name ?? 'R-ESRGAN 4x+',
    o.upscaler_scale ?? 1,
    o.upscaler_visibility ?? 1,
    o.swap_in_source ?? false,
    o.swap_in_generated ?? true,
  ];
  return { roop: { args } };
}

export interface ReActorOptions {
  image: ImageInput;
  enable?: boolean;
  source_faces_index?: string;
  faces_index?: string;
  model?: string;
  face_restorer_name?: string;
  face_restorer_visibility?: number;
  restore_first?: boolean;
  upscaler_name?: string;
  upscaler_scale?: number;
  upscaler_visibility?: number;
  swap_in_source?: boolean;
  swap_in_generated?: boolean;
  /** 0 min, 1 medium, 2 max. */
  console_logging_level?: number;
  /** 0 no, 1 female only, 2 male only. */
  gender_source?: number;
  gender_target?: number;
  save_original?: boolean;
  codeFormer_weight?: number;
  source_hash_check?: boolean;
  target_hash_check?: boolean;
  device?: 'CUDA' | 'CPU';
  mask_face?: boolean;
  /** Must stay 0 (image source) for the swap to use `image`. */
  select_source?: number;
  face_model?: string | null;
}

export async function reactor(o: ReActorOptions): Promise<{ reactor: { args: unknown[] } }> {
  const args = [
    await imageToDataURL(o.image),
    o.enable ?? true,
    o.source_faces_index ?? '0',
    o.faces_index ?? '0',
    o.model ?? 'inswapper_128.onnx',
    o.face_restorer_name ?? 'CodeFormer',
    o.face_restorer_visibility ?? 1,
    o.restore_first ?? true,
    o.upscaler_name ?? 'R-ESRGAN 4x+',
    o.upscaler_scale ?? 2,
    o.upscaler_visibility ?? 1,
    o.swap_in_source ?? false,
    o.swap_in_generated ?? true,
    o.console_logging_level ?? 1,
    o.gender_source ?? 0,
    o.gender_target ?? 0,
    o.save_original ?? false,
    o.codeFormer_weight ?? 0.5,
    o.source_hash_check ?? true,
    o.target_hash_check ?? false,
    o.device ?? 'CUDA',
    o.mask_face ?? true,
    o.select_source ?? 0,
    o.face_model ?? null,
  ];
  return { reactor: { args } };
}
