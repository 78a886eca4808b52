// Public API of @sdapi/server.
