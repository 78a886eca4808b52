// Public API of @sdapi/client.
