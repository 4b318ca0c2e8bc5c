"""Configuration: packaged defaults < machine-wide file < per-user file < --config file
< ECMT_* environment variables < command-line flags.

Files are TOML at platformdirs locations (`site_config_dir("ecmt")/config.toml` and
`user_config_dir("ecmt")/config.toml`); docs/configuration.md lists every key.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from .config_files import config_files
from .domain.errors import EcmtError, ErrorCode
from .domain.models import BackupFormat, SupersededPolicy
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


class EcmtSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECMT_", extra="forbid")

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files: list[Path] = settings_cls.model_config.get("toml_file") or []  # type: ignore[assignment]
        tomls = [TomlConfigSettingsSource(settings_cls, toml_file=f) for f in reversed(files)]
        # Windows: the MSI's deployment properties, just above the lowest file (packaged)
        machine = InitSettingsSource(settings_cls, init_kwargs=registry_settings())
        return (init_settings, env_settings, *tomls[:-1], machine, *tomls[-1:])


def default_config_files(extra: Path | None = None) -> list[Path]:
    """Lowest priority first: packaged defaults, machine-wide, per-user, then --config."""
    if extra is not None and not extra.is_file():
        raise EcmtError(ErrorCode.CONFIG_INVALID, f"no configuration file at {extra}")
    return config_files(extra)


def load_settings(
    config_file: Path | None = None, files: list[Path] | None = None, **flags: Any
) -> EcmtSettings:
    """Settings from every source; `flags` are command-line values (None means not given)."""
    chosen = files if files is not None else default_config_files(config_file)

    existing = [f for f in chosen if f.is_file()]
    layered: type[EcmtSettings] = EcmtSettings
    if existing:

        class _Layered(EcmtSettings):
            model_config = SettingsConfigDict(toml_file=existing)

        layered = _Layered
    try:
        return layered(**{k: v for k, v in flags.items() if v is not None})
    except (SettingsError, tomllib.TOMLDecodeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise _invalid(exc) from None
        raise EcmtError(ErrorCode.CONFIG_INVALID, str(exc)) from None


def _invalid(exc: ValidationError) -> EcmtError:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return EcmtError(ErrorCode.CONFIG_INVALID, problems)
