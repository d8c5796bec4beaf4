#!/usr/bin/env bash
# tools.sh: the programs the end-to-end tests drive besides the engine,
# installed from Debian's packages when missing (as root on Debian/Ubuntu):
#   tmux              stack stats and the tty renderer are tested on a terminal
#   qemu-user-static  the deploy lock's program of the other architecture
#                     runs under it (lock/program_test.go)
#   chromium          stack dashboard is tested in a headless browser
#                     (dashboard/dashboard_e2e_test.go, through chromedp)
set -euo pipefail
need=()
command -v tmux >/dev/null || need+=(tmux)
command -v chromium >/dev/null || need+=(chromium)
{ command -v qemu-aarch64-static && command -v qemu-x86_64-static; } >/dev/null || need+=(qemu-user-static)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "tools: the tests need ${need[*]}; install them and run this again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
