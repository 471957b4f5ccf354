"""A stand-in device on this machine: an arm64 Debian root file system run under qemu-user, with its own OpenSSH
server on a loopback port. Bundles reach it exactly as they reach a board — flash over SSH, pip install of the
aarch64 wheels, run, profile — and run on the device's CPU architecture, not the workstation's.

It needs root (chroot, a private mount namespace, binfmt_misc) and Debian's debootstrap, qemu-user-static and
binfmt-support. Traps it handles (each measured): with the host's x86 ``/proc/cpuinfo`` visible, ai-edge-litert
2.3 segfaults in ``Interpreter()`` and onnxruntime at import, so an aarch64 cpuinfo is bind-mounted over it; on
qemu 7.2's default ``max`` CPU, XNNPACK's int8 kernels compute wrong results, so every guest process runs with
``QEMU_CPU`` set to the board's core.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgekit.errors import UsageError, did_you_mean


@dataclass(frozen=True)
class Emulation:
    """What stands in for one board: the OS its vendor ships and the CPU core qemu models."""

    target: str
    suite: str  # Debian release of the root file system
    qemu_cpu: str
    cpu_part: str  # MIDR part number, for the cpuinfo the guest reads
    cpu_features: str
    cores: int
    model: str
    python: str  # what the suite's python3 is: bundles packaged --with-wheels must match it
    user: str = "pi"


EMULATIONS = {
    "raspberry-pi-5": Emulation(
        target="raspberry-pi-5", suite="bookworm", qemu_cpu="cortex-a76", cpu_part="0xd0b",
        cpu_features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop "
        "asimddp", cores=4, model="Raspberry Pi 5 Model B (emulated by edgekit: qemu-user, Cortex-A76)",
        python="3.11"),
}

# targets that have no stand-in, and why (measured, or outside what the package registries reach)
NOT_EMULATED = {
    "raspberry-pi-4": "qemu 7.2's cortex-a72 model makes ai-edge-litert 2.3 die of SIGILL, and its default 'max' "
    "CPU makes XNNPACK's int8 kernels compute wrong results",
    "jetson-orin-nano": "JetPack 6 is Ubuntu 22.04 with CUDA and TensorRT, which neither qemu nor Debian's archive "
    "provides",
    "intel-core-ultra-npu": "an x86 workstation with an NPU; this machine is already the CPU part of it",
}


def emulation_for(target: str) -> Emulation:
    if target in EMULATIONS:
        return EMULATIONS[target]
    known = ", ".join(EMULATIONS)
    if target in NOT_EMULATED:
        raise UsageError(f"Target '{target}' has no emulated stand-in: {NOT_EMULATED[target]}.", got=target,
                         tip=f"Emulate {known}: any aarch64 bundle for Python {EMULATIONS['raspberry-pi-5'].python} "
                         "runs there, ONNX Runtime ones included (a target file with runtime = \"onnxruntime\").")
    raise UsageError(f"Unknown target to emulate.{did_you_mean(target, [*EMULATIONS, *NOT_EMULATED])}", got=target,
                     tip=f"Targets with an emulated stand-in: {known}.")


def cpuinfo(emulation: Emulation) -> str:
    """The /proc/cpuinfo an arm64 kernel prints for the board's cores (what cpuinfo-based libraries parse)."""
    block = ("processor\t: {i}\nBogoMIPS\t: 108.00\nFeatures\t: {f}\nCPU implementer\t: 0x41\n"
             "CPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: {p}\nCPU revision\t: 1\n\n")
    cores = "".join(block.format(i=i, f=emulation.cpu_features, p=emulation.cpu_part) for i in range(emulation.cores))
    return cores + f"Model\t\t: {emulation.model}\n"
