// Public API of @sdapi/engine.
