"""Server settings: defaults, then DATA_DIR/ccms-server.toml, then CCMS_* variables, then flags."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_NAME = "ccms-server.toml"

KeyWish = Literal["rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384", "none"]


class ServerSettings(BaseSettings):
    """Everything an operator can tune. Field docs double as docs/operator.md's table."""

    model_config = SettingsConfigDict(env_prefix="CCMS_", extra="forbid")

    data_dir: Path
    hostnames: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1"])
    database_url: str | None = None
    key_passphrase: SecretStr | None = None

    epoc_pattern: str = r"^[0-9]{4,10}$"
    pin_validity_days: int = Field(60, ge=1)
    max_failed_pins: int = Field(5, ge=1)
    superseded_pins_checked: int = Field(3, ge=0)
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=1024)
    argon2_parallelism: int = Field(4, ge=1)
    logon_token_minutes: int = Field(10, ge=0, le=60)

    cert_validity_days: int = Field(365, ge=1)
    renewal_window_days: int = Field(30, ge=0)
    idempotency_hours: int = Field(24, ge=0)
    csr_key_wish: KeyWish = "rsa2048"
    min_rsa_bits: int = Field(2048, ge=2048)

    enroll_requires_approval: bool = False
    approval_retry_after_seconds: int = Field(10, ge=1)

    max_body_bytes: int = Field(64 * 1024, ge=1024)
    read_timeout_seconds: float = Field(15, gt=0, le=300)
    rate_limit_per_minute: int = Field(120, ge=0)
    rate_limit_burst: int = Field(60, ge=1)
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(default_factory=list)
    client_cert_header: str = "X-SSL-Client-Cert"
    forwarded_for_header: str = "X-Forwarded-For"
    log_file: Path | None = None

    @model_validator(mode="after")
    def _wish_is_acceptable(self) -> ServerSettings:
        """csrattrs must never ask for a key that enrolment would then refuse."""
        wish = self.csr_key_wish
        if wish.startswith("rsa") and int(wish[3:]) < self.min_rsa_bits:
            raise ValueError(f"csr_key_wish {wish} is below min_rsa_bits {self.min_rsa_bits}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'ccms.sqlite3'}"

    @property
    def effective_log_file(self) -> Path:
        return self.log_file or self.data_dir / "logs" / "ccms-server.log"

    def is_trusted_proxy(self, address: str | None) -> bool:
        if not address or not self.trusted_proxies:
            return False
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted_proxies)


def load_settings(data_dir: Path, **overrides: Any) -> ServerSettings:
    """Settings for DATA_DIR, reading its config file if present; flags win over all."""
    data_dir = data_dir.resolve()

    class _FromDataDir(ServerSettings):
        model_config = SettingsConfigDict(toml_file=data_dir / CONFIG_FILE_NAME)

    values = {k: v for k, v in overrides.items() if v is not None}
    return _FromDataDir(data_dir=data_dir, **values)
