# shellcheck shell=bash
# Sourced by scripts/run, scripts/test and scripts/check-install: installs the Debian packages
# PromiseKeeper needs to build and test, when they are missing. Safe to source repeatedly.
#
#   cmake, g++, make        build tools (ctest comes with cmake)
#   qt6-base-dev            Qt 6 Core, Gui, Widgets, Network, Test, Concurrent headers and CMake files
#   qt6-base-dev-tools      moc, rcc, uic
#   fonts-dejavu-core       a font for the monitor offscreen and under Xvfb
#   libgl-dev               OpenGL headers, which Qt6Gui's CMake package requires
#   xvfb, xauth             a virtual X server for the monitor's screenshots

PK_DEB_PACKAGES=(cmake g++ make qt6-base-dev qt6-base-dev-tools libgl-dev xvfb xauth fonts-dejavu-core)

pk_install_deps()
{
    local missing=() pkg
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "deps.sh: not a Debian system; make sure ${PK_DEB_PACKAGES[*]} (or their equivalents) are installed" >&2
        return 0
    fi
    for pkg in "${PK_DEB_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]]; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "deps.sh: missing ${missing[*]}, and apt-get is not available: install them by hand" >&2
        return 1
    fi

    local sudo=()
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "deps.sh: missing ${missing[*]}; run as root or install sudo" >&2
            return 1
        fi
    fi

    echo "deps.sh: installing ${missing[*]}"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

pk_install_deps
