"""Pre-publication diagnosis of a work, gated by growth rights."""
