"""hub.yaml options of S3-compatible storage (``storage: {type: s3_storage}``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from hub import StorageConfig


class S3Config(StorageConfig):
    """Keep recordings in an S3-compatible bucket."""

    type: Literal["s3_storage"] = "s3_storage"
    type_aliases = ("s3",)
    endpoint: str = Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
                          description="S3 endpoint, e.g. 'https://s3.example.go.id' or 'http://127.0.0.1:8333'.")
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="Bucket name.")
    prefix: str = Field(default="", pattern=r"^([A-Za-z0-9._-]+/)*$",
                        description="Key prefix inside the bucket, ending in '/', e.g. 'semarang/'.")
    region: str = Field(default="us-east-1", description="Region the signatures name (most servers ignore it).")
    access_key: str = Field(min_length=1, description="Access key id.")
    secret_key: SecretStr = Field(description="Secret access key; write ${ENV_VAR}.")
    path_style: bool = Field(default=True, description="Address buckets as <endpoint>/<bucket> (MinIO, SeaweedFS).")
    create_bucket: bool = Field(default=False, description="Create the bucket at start when it is missing.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for each request.")
