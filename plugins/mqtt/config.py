"""The ``mqtt`` notifier's options in hub.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from hub import NotifierConfig


class MqttConfig(NotifierConfig):
    """Publish events and camera state to an MQTT broker (and Home Assistant)."""

    type: Literal["mqtt"] = "mqtt"
    host: str = Field(default="127.0.0.1", description="Broker address.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port (8883 is usual with TLS).")
    username: str | None = Field(default=None, description="Broker user, if the broker asks for one.")
    password: SecretStr | None = Field(default=None, description="Broker password; write ${ENV_VAR}.")
    tls: bool = Field(default=False, description="Connect with TLS.")
    ca_file: str | None = Field(default=None, description="CA bundle for the broker's certificate (TLS).")
    client_id: str = Field(default="pantau-hub",
                           description="MQTT client id; one per hub (with several nodes, each adds -NODE).")
    topic_prefix: str = Field(default="pantau", pattern=r"^[^#+]+$", description="Prefix of every topic.")
    ha_discovery: bool = Field(default=True, description="Announce cameras to Home Assistant.")
    discovery_prefix: str = Field(default="homeassistant", description="Home Assistant's discovery prefix.")
    timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for the broker's acknowledgement.")
