#!/usr/bin/env bash
# build.sh linux|windows|macos [--no-demo]: the frozen desktop program with PyInstaller
# (installer/ecmt.spec) in dist/ecmt/ (macOS: dist/ecmt.app). Run from anywhere, on the
# platform named (PyInstaller does not cross-build), with the `build` extra installed:
#   pip install -e '.[build]'
# PYTHON picks the interpreter (default: .venv's, else python3, else python).
# --no-demo (or ECMT_BUILD_WITHOUT_DEMO=1) leaves the reference server out.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${1:-}"
case "$target" in
    linux | windows | macos) ;;
    *) echo "usage: $0 linux|windows|macos [--no-demo]" >&2; exit 2 ;;
esac
if [ "${2:-}" = "--no-demo" ]; then
    export ECMT_BUILD_WITHOUT_DEMO=1
elif [ -n "${2:-}" ]; then
    echo "usage: $0 linux|windows|macos [--no-demo]" >&2
    exit 2
fi
if [ -z "${PYTHON:-}" ]; then
    for candidate in .venv/bin/python .venv/Scripts/python.exe python3 python; do
        if [ -x "$candidate" ] || command -v "$candidate" >/dev/null 2>&1; then
            PYTHON="$candidate"
            break
        fi
    done
fi
expected="$("$PYTHON" -c 'import sys; print({"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform))')"
if [ "$expected" != "$target" ]; then
    echo "$0: this is $expected; PyInstaller builds $target only on $target" >&2
    exit 2
fi

export ECMT_VERSION="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' src/ecmt/__init__.py)"
mkdir -p build
if [ "$target" = windows ]; then
    # the version resource: File Properties > Details on ecmt.exe
    "$PYTHON" - "$ECMT_VERSION" <<'PY'
import re, sys
version = sys.argv[1]
major, minor, patch = (list(map(int, re.findall(r"\d+", version)[:3])) + [0, 0, 0])[:3]
text = open("resources/windows/version_info.txt", encoding="utf-8").read()
lines = [line for line in text.splitlines() if not line.startswith("#")]
filled = "\n".join(lines).replace("{major}", str(major)).replace("{minor}", str(minor))
filled = filled.replace("{patch}", str(patch)).replace("{version}", version)
open("build/version_info.txt", "w", encoding="utf-8").write(filled + "\n")
PY
    export ECMT_VERSION_FILE="$root/build/version_info.txt"
fi

rm -rf dist/ecmt dist/ecmt.app
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller installer/ecmt.spec
echo "built $( [ "$target" = macos ] && echo dist/ecmt.app || echo dist/ecmt ) (ecmt $ECMT_VERSION${ECMT_BUILD_WITHOUT_DEMO:+, without the demo})"
