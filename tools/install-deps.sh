#!/usr/bin/env bash
# Installs what clgan needs to build, test and train on Debian 12 (or newer):
# the compiler and meson, the OpenCL ICD loader and headers, PoCL as the CPU
# OpenCL device, CLBlast, OpenBLAS (the native GEMM path), libpng, zlib, cmocka, LAPACK, clang with its
# libFuzzer runtime (the fuzz build), Oclgrind (the simulated OpenCL device
# of the oclgrind test suite), python3-venv (tools/test.sh installs onnxruntime
# for the ONNX export test in a virtual environment), Open MPI (data-parallel
# training under mpirun, and its tests), and the Fashion-MNIST
# package used by the default training job. Run it as root or as a user: it calls sudo itself
# when it is not root.
set -euo pipefail
packages=(
  build-essential pkg-config meson ninja-build python3 python3-venv
  ocl-icd-opencl-dev opencl-headers ocl-icd-libopencl1 pocl-opencl-icd clinfo
  libclblast-dev libopenblas-dev libpng-dev zlib1g-dev libcmocka-dev liblapack-dev libjansson-dev
  clang libclang-rt-dev oclgrind libopenmpi-dev openmpi-bin
  dataset-fashion-mnist
)
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "clgan: installing packages needs root: run tools/install-deps.sh as root (sudo is not installed)" >&2
    exit 1
  fi
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "clgan: dependencies installed"
