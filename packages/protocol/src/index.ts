// Public API of @sdapi/protocol.
