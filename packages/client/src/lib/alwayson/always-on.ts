/**
 * Merges `alwayson_scripts` entries into one object (a fresh one each call: webuiapi's shared mutable default
 * made keys leak into later requests).
 * @example alwayson_scripts: alwaysOn(controlNet([unit]), adetailer([adetailerUnit({ ad_model: 'face_yolov8n.pt' })]))
 */
export function alwaysOn(...entries: Record<string, { args: unknown[] }>[]): Record<string, { args: unknown[] }> {
  return Object.assign({}, ...entries);
}
