"""Reaching devices from the workstation: addresses, inventory, SSH / local transport, flashing."""
