"""GET /ccms/v1/releases/<name>: the package files `release publish --artifact-file` put
into DATA_DIR/releases, so a manifest's artifacts can point at this server."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ccms_protocol.wire import API_PREFIX, ProblemCode

from ..problems import ProblemError
from ..release import RELEASES_DIR, artifact_name_ok


class ReleaseFiles:
    def __init__(self, data_dir: Path) -> None:
        self._folder = data_dir / RELEASES_DIR

    def add_to(self, app: web.Application) -> None:
        app.router.add_get(API_PREFIX + "releases/{name}", self.package)

    async def package(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self._folder / name
        if not artifact_name_ok(name) or not path.is_file():
            raise ProblemError(ProblemCode.NOT_FOUND, "no such release package")
        return web.FileResponse(path, headers={"Content-Type": "application/octet-stream"})
