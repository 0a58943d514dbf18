# Sourced by the quick-start test's shell (BASH_ENV): README writes `sudo bash scripts/install-deps.sh`
# for a user's account; a root shell without sudo installed (a container, CI) runs the command itself.
if ! command -v sudo >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  sudo() { "$@"; }
fi
