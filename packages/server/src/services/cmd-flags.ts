/**
 * GET /sdapi/v1/cmd-flags (spec §3.10, §11): every A1111 v1.10.1 flag destination in A1111's order (generated once
 * from vector cmd_flags.json), with install paths under the data dir and this server's own settings applied.
 * Flags whose default is None are typed `str` by A1111's response model, so set values come back as strings.
 */

/** A1111's defaults, with `root` standing for the install / data directory. */
function defaults(root: string): Record<string, unknown> {
  return {
    f: false,
    update_all_extensions: false,
    skip_python_version_check: false,
    skip_torch_cuda_test: false,
    reinstall_xformers: false,
    reinstall_torch: false,
    update_check: false,
    test_server: false,
    log_startup: false,
    skip_prepare_environment: false,
    skip_install: false,
    dump_sysinfo: false,
    loglevel: null,
    do_not_download_clip: false,
    data_dir: `${root}`,
    models_dir: null,
    config: `${root}/configs/v1-inference.yaml`,
    ckpt: `${root}/model.ckpt`,
    ckpt_dir: null,
    vae_dir: null,
    gfpgan_dir: `${root}/GFPGAN`,
    gfpgan_model: null,
    no_half: false,
    no_half_vae: false,
    no_progressbar_hiding: false,
    max_batch_count: 16,
    embeddings_dir: `${root}/embeddings`,
    textual_inversion_templates_dir: `${root}/textual_inversion_templates`,
    hypernetwork_dir: `${root}/models/hypernetworks`,
    localizations_dir: `${root}/localizations`,
    allow_code: false,
    medvram: false,
    medvram_sdxl: false,
    lowvram: false,
    lowram: false,
    always_batch_cond_uncond: false,
    unload_gfpgan: false,
    precision: 'autocast',
    upcast_sampling: false,
    share: false,
    ngrok: null,
    ngrok_region: '',
    ngrok_options: {},
    enable_insecure_extension_access: false,
    codeformer_models_path: `${root}/models/Codeformer`,
    gfpgan_models_path: `${root}/models/GFPGAN`,
    esrgan_models_path: `${root}/models/ESRGAN`,
    bsrgan_models_path: `${root}/models/BSRGAN`,
    realesrgan_models_path: `${root}/models/RealESRGAN`,
    dat_models_path: `${root}/models/DAT`,
    clip_models_path: null,
    xformers: false,
    force_enable_xformers: false,
    xformers_flash_attention: false,
    deepdanbooru: false,
    opt_split_attention: false,
    opt_sub_quad_attention: false,
    sub_quad_q_chunk_size: 1024,
    sub_quad_kv_chunk_size: null,
    sub_quad_chunk_threshold: null,
    opt_split_attention_invokeai: false,
    opt_split_attention_v1: false,
    opt_sdp_attention: false,
    opt_sdp_no_mem_attention: false,
    disable_opt_split_attention: false,
    disable_nan_check: false,
    use_cpu: [],
    use_ipex: false,
    disable_model_loading_ram_optimization: false,
    listen: false,
    port: null,
    show_negative_prompt: false,
    ui_config_file: `${root}/ui-config.json`,
    hide_ui_dir_config: false,
    freeze_settings: false,
    freeze_settings_in_sections: null,
    freeze_specific_settings: null,
    ui_settings_file: `${root}/config.json`,
    gradio_debug: false,
    gradio_auth: null,
    gradio_auth_path: null,
    gradio_img2img_tool: null,
    gradio_inpaint_tool: null,
    gradio_allowed_path: [`${root}`],
    opt_channelslast: false,
    styles_file: [],
    autolaunch: false,
    theme: null,
    use_textbox_seed: false,
    disable_console_progressbars: false,
    enable_console_prompts: false,
    vae_path: null,
    disable_safe_unpickle: false,
    api: false,
    api_auth: null,
    api_log: false,
    nowebui: false,
    ui_debug_mode: false,
    device_id: null,
    administrator: false,
    cors_allow_origins: null,
    cors_allow_origins_regex: null,
    tls_keyfile: null,
    tls_certfile: null,
    disable_tls_verify: null,
    server_name: null,
    gradio_queue: true,
    no_gradio_queue: false,
    skip_version_check: false,
    no_hashing: false,
    no_download_sd_model: false,
    subpath: null,
    add_stop_route: false,
    api_server_stop: false,
    timeout_keep_alive: 30,
    disable_all_extensions: false,
    disable_extra_extensions: false,
    skip_load_model_at_start: false,
    unix_filenames_sanitization: false,
    filenames_max_length: 128,
    no_prompt_history: false,
    ldsr_models_path: `${root}/models/LDSR`,
    lora_dir: `${root}/models/Lora`,
    lyco_dir_backcompat: `${root}/models/LyCORIS`,
    scunet_models_path: `${root}/models/ScuNET`,
    swinir_models_path: `${root}/models/SwinIR`,
  };
}

const A1111_FLAGS = new Set(Object.keys(defaults('')));

/** Whether `dest` is one of A1111's flag destinations (`ckpt_dir`, `port`, ...). */
export function isA1111Flag(dest: string): boolean {
  return A1111_FLAGS.has(dest);
}

/**
 * The body: defaults, then `overrides` (strings where A1111's default is null, e.g. `port: "7860"`); an `sdapi`
 * object in `overrides` (this server's own flags) is added after A1111's, other unknown keys are dropped.
 */
export function cmdFlagsBody(root: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body = defaults(root);
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(body, key) || value === undefined) continue;
    body[key] = body[key] === null && value !== null ? String(value) : value;
  }
  if (overrides.sdapi !== undefined) body.sdapi = overrides.sdapi;
  return body;
}
