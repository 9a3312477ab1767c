"""Creator community board and scheduled live-room sessions."""
