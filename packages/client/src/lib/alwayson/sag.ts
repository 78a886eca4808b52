/** Self Attention Guidance for `alwayson_scripts` (`[enable, scale, mask_threshold]`, webuiapi's Sag defaults). */

export function selfAttentionGuidance({ enable = true, scale = 0.75, maskThreshold = 1 } = {}): {
  'Self Attention Guidance': { args: [boolean, number, number] };
} {
  return { 'Self Attention Guidance': { args: [enable, scale, maskThreshold] } };
}
