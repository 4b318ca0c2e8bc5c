"""Configuration: packaged defaults < (Windows: the MSI's registry values) < machine-wide
file < per-user file < --config file < ECMT_* environment variables < command-line flags.

Files are TOML at platformdirs locations (`site_config_dir("ecmt")/config.toml` and
`user_config_dir("ecmt")/config.toml`); docs/configuration.md lists every key.

The layers are merged here, key by key (a later layer replaces a whole value), and the
result is validated by one pydantic model. pydantic-settings did the merging before; it
also loaded asyncio, dotenv and cloud-provider modules on every start, the largest single
cost of `ecmt status`, for features this program does not use.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import platformdirs

# pydantic looks for plugins among every installed package's entry points when a model is
# made; this program uses none, and the search is a large part of a CLI command's start
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import (  # after the line above: it is read when models are made
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from .config_files import config_files
from .domain.errors import EcmtError, ErrorCode
from .domain.states import BackupFormat, SupersededPolicy
from .machine_registry import registry_settings

APP = "ecmt"
KeyAlgorithm = Literal["rsa2048", "rsa3072", "ec-p256"]


class Helpdesk(BaseModel):
    name: str
    phone: str
    serves: str = ""


class ReleaseKey(BaseModel):
    keyid: str
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")


ENV_PREFIX = "ECMT_"


class EcmtSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server_url: str | None = None  # a deployment sets it; checked where it is used
    trust_anchors: list[Path] = Field(default_factory=list)
    proxy: str | None = None
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    request_deadline: float = Field(60.0, gt=0)
    store: str | None = None  # one store value, or several: "nss,firefox" (a list in TOML)
    firefox_wait_seconds: float = Field(10.0, ge=0)  # for Firefox to close before a change
    exportable_keys: bool = True  # Windows: the key may leave the store again (backups)
    key_readers: list[str] = Field(default_factory=list)  # Windows: accounts that read the key
    key_algorithm: KeyAlgorithm = "rsa2048"
    backup_folder: Path | None = None
    backup_format: BackupFormat = BackupFormat.LEGACY
    superseded_policy: SupersededPolicy = SupersededPolicy.REMOVE
    release_keys: list[ReleaseKey] = Field(default_factory=list)
    epoc_pattern: str = r"^[0-9]{4,10}$"
    default_epoc: str | None = None
    approval_deadline_seconds: int = Field(900, ge=0)
    renewal_window_days: int = Field(30, ge=0)
    auto_renew: bool = False  # the daily check renews with the current certificate
    helpdesks: list[Helpdesk] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir(APP)))
    log_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_log_dir(APP)))
    state_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_state_dir(APP)))

    @field_validator("store", mode="before")
    @classmethod
    def _store_list(cls, value: object) -> object:
        """A TOML list, or a JSON list in ECMT_STORE, becomes the comma-separated text."""
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError("not a JSON list of store values") from None
        if isinstance(value, list | tuple):
            items = [str(item).strip() for item in value]
            if any("," in item for item in items):
                raise ValueError("a store value in a list cannot contain a comma")
            return ",".join(items)
        return value

    @field_validator("server_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("https://"):
            raise ValueError("the server URL must start with https://")
        return value.rstrip("/")


def default_config_files(extra: Path | None = None) -> list[Path]:
    """Lowest priority first: packaged defaults, machine-wide, per-user, then --config."""
    if extra is not None and not extra.is_file():
        raise EcmtError(ErrorCode.CONFIG_INVALID, f"no configuration file at {extra}")
    return config_files(extra)


def load_settings(
    config_file: Path | None = None,
    files: list[Path] | None = None,
    environ: Mapping[str, str] | None = None,
    **flags: Any,
) -> EcmtSettings:
    """Settings from every source; `flags` are command-line values (None means not given)."""
    chosen = files if files is not None else default_config_files(config_file)
    existing = [f for f in chosen if f.is_file()]
    merged: dict[str, Any] = _toml(existing[0]) if existing else {}  # the packaged defaults
    merged.update(registry_settings())  # Windows: the MSI's deployment properties
    for path in existing[1:]:
        merged.update(_toml(path))
    merged.update(_environment(os.environ if environ is None else environ))
    merged.update({k: v for k, v in flags.items() if v is not None})
    try:
        return EcmtSettings.model_validate(merged)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise EcmtError(ErrorCode.CONFIG_INVALID, f"{path}: {exc}") from None
    except OSError as exc:
        raise EcmtError(ErrorCode.CONFIG_INVALID, f"{path}: {exc.strerror}") from None


def _environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """ECMT_<SETTING> variables (any case) for known settings: a list or a table is given
    as JSON (ECMT_TRUST_ANCHORS='["/etc/ca.pem"]'); other ECMT_* names are left alone,
    as other parts of the program and its tests use some."""
    values: dict[str, Any] = {}
    for name, text in environ.items():
        if not name.upper().startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        field = EcmtSettings.model_fields.get(key)
        if field is None:
            continue
        if _structured(field.annotation):
            try:
                values[key] = json.loads(text)
            except ValueError:
                raise EcmtError(
                    ErrorCode.CONFIG_INVALID, f"{name}: not JSON (a list is written [...])"
                ) from None
        else:
            values[key] = text
    return values


def _structured(annotation: object) -> bool:
    """A list, a table or a model: what an environment variable gives as JSON."""
    origin = get_origin(annotation)
    if origin in (list, dict, tuple):
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_structured(arg) for arg in get_args(annotation) if arg is not type(None))


def _invalid(exc: ValidationError) -> EcmtError:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return EcmtError(ErrorCode.CONFIG_INVALID, problems)
