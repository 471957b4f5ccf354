"""Bundles: packaging, manifests, safe extraction (shared by the workstation and the device)."""
