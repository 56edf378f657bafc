"""One module per command (or group); each imports what it needs when it
runs, so that `driftloop --help` and every quick command start fast."""
