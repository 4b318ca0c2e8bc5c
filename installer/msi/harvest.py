"""Write the "Payload" component group for ecmt.wxs: every file under a folder, one
component each, in nested Directory elements under INSTALLDIR.

wixl-heat puts the top folder's files in a directory named "." and needs a Win64
variable; this keeps the tree as it is on disk. Ids are hashes of the relative path, so
the same file keeps its component (and its component GUID, which wixl derives from the
key path) from one build to the next, as major upgrades want.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr


def _id(prefix: str, relative: str) -> str:
    return prefix + hashlib.sha256(relative.encode()).hexdigest()[:32].upper()


def harvest(payload: Path) -> str:
    components: list[str] = []
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">',
        "  <Fragment>",
        '    <DirectoryRef Id="INSTALLDIR">',
    ]

    def walk(folder: Path, depth: int) -> None:
        pad = "  " * depth
        for entry in sorted(folder.iterdir(), key=lambda p: (p.is_dir(), p.name)):
            relative = entry.relative_to(payload).as_posix()
            if entry.is_dir():
                name = quoteattr(entry.name)
                lines.append(f'{pad}<Directory Id="{_id("d", relative)}" Name={name}>')
                walk(entry, depth + 1)
                lines.append(f"{pad}</Directory>")
            elif entry.is_file():
                component = _id("c", relative)
                components.append(component)
                lines.append(f'{pad}<Component Id="{component}" Guid="*" Win64="yes">')
                source = quoteattr(f"$(var.SourceDir)/{relative}")
                lines.append(
                    f'{pad}  <File Id="{_id("f", relative)}" Name={quoteattr(entry.name)} '
                    f'Source={source} KeyPath="yes"/>'
                )
                lines.append(f"{pad}</Component>")

    walk(payload, 3)
    lines += ["    </DirectoryRef>", "  </Fragment>", "  <Fragment>"]
    lines.append('    <ComponentGroup Id="Payload">')
    lines += [f'      <ComponentRef Id="{c}"/>' for c in components]
    lines += ["    </ComponentGroup>", "  </Fragment>", "</Wix>", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(harvest(Path(sys.argv[1])))
