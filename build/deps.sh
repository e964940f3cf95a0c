#!/usr/bin/env bash
# Installs what building and testing Forkwatch needs that Go modules do not
# bring: on Linux the C libraries for the tray (cgo), zsh for the shell
# tests, ruby and zipinfo for the release tests; on macOS nothing (Xcode
# Command Line Tools provide cgo; ruby and zipinfo come with macOS).
set -euo pipefail
[ "$(uname -s)" = Darwin ] && exit 0
need=()
pkg-config --exists ayatana-appindicator3-0.1 2>/dev/null || need+=(libayatana-appindicator3-dev libgtk-3-dev pkg-config)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v zsh >/dev/null || need+=(zsh)
# ruby -c checks the rendered Homebrew cask; zipinfo reads the release zip.
command -v ruby >/dev/null || need+=(ruby)
command -v zipinfo >/dev/null || need+=(unzip)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "deps: installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "deps: please install: ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2
  exit 1
fi
