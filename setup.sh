#!/usr/bin/env bash
# Installs what hetconv's main job and its tests read from Debian: Fashion-MNIST (the default data set, in
# /usr/share/datasets/fashion-mnist) and DejaVu Sans (the font of the training plots). Works as root and as a
# user with sudo; installs nothing that is already there. The .NET SDK it checks for, but does not install.
set -euo pipefail

packages=(dataset-fashion-mnist fonts-dejavu-core)

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup.sh: the .NET 10 SDK is missing: install it (https://learn.microsoft.com/dotnet/core/install/linux-debian), then run this again." >&2
  exit 2
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup.sh: installing ${missing[*]} needs root: run it as root, or install sudo." >&2
  exit 2
fi

"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
