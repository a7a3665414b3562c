"""Travel on real components: Ed25519 keys, QR images, the offline gate's files, SQL reads."""
