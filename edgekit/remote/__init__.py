"""The workstation reaching devices: addresses and inventory (address), SSH / local transport (transport),
flashing bundles (flash) and profiling them remotely (profile). What runs on the device is edgekit.agent."""
