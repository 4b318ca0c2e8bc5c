#!/usr/bin/env bash
# build-msi.sh PAYLOAD_DIR OUT.msi: pack a PyInstaller onedir folder for Windows (it must
# hold ecmt.exe) into the per-machine MSI described by ecmt.wxs, with wixl (Debian's
# `wixl` package, part of msitools). The version is ECMT_VERSION, or ecmt's __version__.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ $# -ne 2 ]; then
    echo "usage: $0 PAYLOAD_DIR OUT.msi" >&2
    exit 2
fi
payload="$(cd "$1" && pwd)"
out="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
for tool in wixl python3; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is missing (apt-get install wixl)" >&2; exit 1; }
done
[ -f "$payload/ecmt.exe" ] || { echo "$0: $payload has no ecmt.exe" >&2; exit 1; }

version="${ECMT_VERSION:-$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$root/src/ecmt/__init__.py")}"
# An MSI version is three numbers (major and minor below 256): 5.1.0rc1 installs as 5.1.0.
msi_version="$(printf '%s' "$version" | sed -E 's/^([0-9]+(\.[0-9]+){0,2}).*/\1/')"
[ -n "$msi_version" ] || { echo "$0: no usable version in '$version'" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Every file of the folder, as components of the group "Payload" under INSTALLDIR.
python3 "$here/harvest.py" "$payload" >"$work/payload.wxs"

# wixl finds sources relative to the folder it runs in (absolute paths trip it up).
ln -s "$payload" "$work/payload"
cp "$root/resources/ecmt.ico" "$here/ecmt.wxs" "$work/"
(cd "$work" && wixl --arch x64 -D SourceDir=payload -D Version="$msi_version" \
    -D IconFile=ecmt.ico -o ecmt.msi ecmt.wxs payload.wxs)
mv "$work/ecmt.msi" "$out"
echo "built $out (version $msi_version) from $payload"
