#!/usr/bin/env bash
# The seed's one command, for a fresh machine:
#   1. find a Python >= 3.10 (macOS ships 3.9 as python3: there Homebrew installs one; elsewhere
#      this stops with the exact install command);
#   2. install this clone's package into its own environment, ~/.local/share/dbx-fmapi-claude/venv
#      (re-running upgrades it in place; no network needed: the package has no dependencies);
#   3. link dbx-fmapi, dbx-fmapi-claude and setup-fmapi-claudecode into ~/.local/bin;
#   4. run setup with the same flags: `bash setup-fmapi-claudecode.sh --host https://...`.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi  # `sh setup-...sh` works too
set -euo pipefail

PROG=setup-fmapi-claudecode.sh
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${XDG_DATA_HOME:-}" ] && [ "${XDG_DATA_HOME#/}" != "$XDG_DATA_HOME" ]; then
  DATA_DIR=$XDG_DATA_HOME/dbx-fmapi-claude
else
  DATA_DIR=$HOME/.local/share/dbx-fmapi-claude
fi
VENV=$DATA_DIR/venv
BIN_DIR=$HOME/.local/bin
NAMES=(dbx-fmapi dbx-fmapi-claude setup-fmapi-claudecode)

say() { printf '%s\n' "$*" >&2; }
die() {  # die MESSAGE FIX [CODE]
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  [ -n "${2:-}" ] && printf '  fix: %s\n' "$2" >&2
  exit "${3:-1}"
}

dry_run=0
help=0
for arg in "$@"; do
  case $arg in
    --dry-run) dry_run=1 ;;
    -h | --help) help=1 ;;
  esac
done

# --- 1. a Python >= 3.10 ---------------------------------------------------------------------

good_python() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1
}

find_python() {
  local cand path extra=()
  [ "$(uname -s)" = Darwin ] && extra=(/opt/homebrew/bin/python3 /usr/local/bin/python3)
  for cand in "${DBX_FMAPI_PYTHON:-}" python3.13 python3.12 python3.11 python3.10 python3 \
    ${extra[@]+"${extra[@]}"}; do
    [ -n "$cand" ] || continue
    path=$(command -v "$cand" 2>/dev/null) || continue
    if good_python "$path"; then
      printf '%s\n' "$path"
      return 0
    fi
  done
  return 1
}

linux_python_hint() {
  if command -v apt-get >/dev/null 2>&1; then
    echo "sudo apt-get install -y python3 python3-venv   (Python 3.10 or newer)"
  elif command -v dnf >/dev/null 2>&1; then
    echo "sudo dnf install -y python3.11"
  elif command -v yum >/dev/null 2>&1; then
    echo "sudo yum install -y python3.11"
  elif command -v zypper >/dev/null 2>&1; then
    echo "sudo zypper install -y python311"
  elif command -v pacman >/dev/null 2>&1; then
    echo "sudo pacman -S --needed python"
  elif command -v apk >/dev/null 2>&1; then
    echo "sudo apk add python3"
  else
    echo "install Python 3.10 or newer from https://www.python.org/downloads/"
  fi
}

PY=$(find_python) || PY=
if [ -z "$PY" ]; then
  if [ "$(uname -s)" = Darwin ]; then
    command -v brew >/dev/null 2>&1 || die "Python 3.10 or newer is needed and Homebrew (brew) is not installed" \
      '/bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"'
    if [ "$dry_run" = 1 ]; then
      say "would run: brew install python@3.12"
      exit 0
    fi
    say "Installing Python 3.12 with Homebrew (macOS's python3 is too old)"
    brew install python@3.12 >&2 || die "brew install python@3.12 failed" "brew install python@3.12"
    PY=$(brew --prefix)/bin/python3.12
    good_python "$PY" || die "Python 3.12 from Homebrew did not start" "brew reinstall python@3.12"
  else
    found=$(command -v python3 2>/dev/null || true)
    version=
    if [ -n "$found" ]; then
      version=$("$found" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) ||
        version=
    fi
    die "Python 3.10 or newer is needed${version:+ (python3 here is $version)}" "$(linux_python_hint)"
  fi
fi

if [ "$help" = 1 ] && [ ! -x "$VENV/bin/setup-fmapi-claudecode" ]; then
  # Help needs no install: run the parser straight from the clone.
  PYTHONPATH=$REPO/src exec "$PY" -c \
    'import sys; sys.argv[0] = "setup-fmapi-claudecode"; from dbx_fmapi_claude.cli.main import setup_main; setup_main()' "$@"
fi

# --- 2. the isolated environment -------------------------------------------------------------

for name in "${NAMES[@]}"; do  # before changing anything: never replace a file that is not ours
  link=$BIN_DIR/$name
  if [ -e "$link" ] && [ ! -L "$link" ]; then
    die "$link exists and is not a link of ours; refusing to replace it" \
      "move it away, then re-run: mv $(printf %q "$link") $(printf %q "$link.old")"
  fi
done

if [ "$dry_run" = 1 ]; then
  if [ -x "$VENV/bin/setup-fmapi-claudecode" ]; then
    say "dry run: using the installed $VENV as it is (no upgrade)"
    exec "$VENV/bin/setup-fmapi-claudecode" "$@"
  fi
  say "dry run: would create $VENV with $PY, install $REPO into it,"
  say "  link ${NAMES[*]} into $BIN_DIR, then run: setup-fmapi-claudecode $*"
  say "  which would change (setup's own dry run, from the clone):"
  # Setup straight from the clone, told where the executables will be linked: it shows the
  # same diff the installed setup would write, and writes nothing.
  DBX_FMAPI_PLANNED_BIN=$BIN_DIR PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$REPO/src exec "$PY" -c \
    'import sys; sys.argv[0] = "setup-fmapi-claudecode"; from dbx_fmapi_claude.cli.main import setup_main; setup_main()' "$@"
fi

if [ -x "$VENV/bin/python" ] && good_python "$VENV/bin/python" && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  say "Upgrading dbx-fmapi-claude in $VENV"
else
  say "Installing dbx-fmapi-claude into $VENV (Python: $PY)"
  say "  creating the environment (python -m venv; this can take half a minute) ..."
  rm -rf "$VENV"
  mkdir -p "$DATA_DIR"
  if ! "$PY" -m venv "$VENV" >&2; then
    rm -rf "$VENV"
    minor=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    die "cannot create a Python environment with $PY (the venv module or ensurepip is missing)" \
      "sudo apt-get install -y python$minor-venv   (or your system's python3-venv package)"
  fi
fi

pip_install() {
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --no-deps --force-reinstall "$@" >&2
}

# The package is pure Python with no dependencies, so nothing needs downloading: the wheel is
# built here with the standard library (no setuptools/wheel, which Python >= 3.12 environments
# lack and which would otherwise be fetched from a package index), then pip installs it.
build=$(mktemp -d "${TMPDIR:-/tmp}/dbx-fmapi-build.XXXXXX")
trap 'rm -rf "$build"' EXIT
cat >"$build/mkwheel.py" <<'PYWHEEL'
import base64, hashlib, os, re, sys, zipfile

repo, out = sys.argv[1], sys.argv[2]
pyproject = open(os.path.join(repo, "pyproject.toml"), encoding="utf-8").read()
name = re.search(r'(?m)^name\s*=\s*"([^"]+)"', pyproject).group(1)
version = re.search(r'(?m)^version\s*=\s*"([^"]+)"', pyproject).group(1)
summary = re.search(r'(?m)^description\s*=\s*"([^"]*)"', pyproject).group(1)
scripts_list = re.search(r"(?ms)^script-files\s*=\s*\[(.*?)\]", pyproject).group(1)
scripts = re.findall(r'"([^"]+)"', scripts_list)
dist = name.replace("-", "_")
info = f"{dist}-{version}.dist-info"
files = {}
src = os.path.join(repo, "src")
for pkg in sorted(os.listdir(src)):
    top = os.path.join(src, pkg)
    if not os.path.isfile(os.path.join(top, "__init__.py")):
        continue
    for root, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for n in sorted(names):
            if n.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(root, n)
            files[os.path.relpath(path, src).replace(os.sep, "/")] = open(path, "rb").read()
files[f"{info}/METADATA"] = (
    f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
    "Requires-Python: >=3.10\n"
).encode()
files[f"{info}/WHEEL"] = (
    "Wheel-Version: 1.0\nGenerator: setup-fmapi-claudecode.sh\nRoot-Is-Purelib: true\n"
    "Tag: py3-none-any\n"
).encode()
# The launchers go in as scripts: pip points their `#!python` line at the environment's Python.
for script in scripts:
    data_path = f"{dist}-{version}.data/scripts/{os.path.basename(script)}"
    files[data_path] = open(os.path.join(repo, script), "rb").read()
record = []
for path, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
wheel = os.path.join(out, f"{dist}-{version}-py3-none-any.whl")
with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
    for path, data in files.items():
        entry = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        entry.external_attr = (0o100755 if "/scripts/" in path else 0o100644) << 16  # regular file
        zf.writestr(entry, data)
print(wheel)
PYWHEEL
say "  installing the package with pip (no download: it has no dependencies) ..."
wheel=$("$VENV/bin/python" "$build/mkwheel.py" "$REPO" "$build") || die "cannot build the package from $REPO" "check the clone: git -C $(printf %q "$REPO") status"
pip_install "$wheel" || die "pip could not install the package from $REPO" \
  "rm -rf $(printf %q "$VENV") and re-run: bash $(printf %q "$REPO/setup-fmapi-claudecode.sh")"

# pip writes `#!<venv>/bin/python` as the scripts' first line. The kernel cuts a `#!` line at
# the first space (and at 127 bytes), so a HOME like "/Users/Jane Doe" gives programs that
# cannot start. Then the first lines become a /bin/sh preamble that execs the environment's
# Python on the script, which Python itself reads past as a string.
case $VENV in
  *[[:space:]]*) unsafe=1 ;;
  *) unsafe=$(( ${#VENV} > 100 )) ;;
esac
if [ "$unsafe" = 1 ]; then
  cat >"$build/shebang.py" <<'PYFIX'
import os, shlex, sys

python = sys.argv[1]
Q3 = "'" * 3
for path in sys.argv[2:]:
    with open(path, "rb") as fh:
        first, _, rest = fh.read().partition(b"\n")
    if not first.startswith(b"#!"):
        continue
    head = f'#!/bin/sh\n{Q3}exec\' {shlex.quote(python)} "$0" "$@"\n\' {Q3}\n'
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(head.encode() + rest)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
PYFIX
  targets=()
  for name in "${NAMES[@]}"; do targets+=("$VENV/bin/$name"); done
  "$VENV/bin/python" "$build/shebang.py" "$VENV/bin/python" "${targets[@]}" ||
    die "cannot adapt the installed programs to the path $VENV" \
      "re-run with a data folder without spaces: XDG_DATA_HOME=/tmp/dbx bash $(printf %q "$REPO/setup-fmapi-claudecode.sh")"
fi

# --- 3. the executables on PATH --------------------------------------------------------------

mkdir -p "$BIN_DIR"
for name in "${NAMES[@]}"; do
  target=$VENV/bin/$name
  [ -x "$target" ] || die "the install did not produce $target" "rm -rf $(printf %q "$VENV") and re-run this script"
  ln -sfn "$target" "$BIN_DIR/$name"
done
say "Linked ${NAMES[*]} into $BIN_DIR (installed in ${SECONDS}s)"
case ":${PATH:-}:" in
  *":$BIN_DIR:"*) ;;
  *) say "note: $BIN_DIR is not on this shell's PATH yet; the block setup adds to your shell's rc file puts it there for new terminals (--shell none: add it yourself: export PATH=\"\$HOME/.local/bin:\$PATH\")" ;;
esac

# --- 4. setup, with the same flags -----------------------------------------------------------

rm -rf "$build"  # exec runs no EXIT trap: the build folder would stay in $TMPDIR for ever
trap - EXIT
exec "$BIN_DIR/setup-fmapi-claudecode" "$@"
