"""The provider integration API, /api/v1 (a public contract: ../shared/api-v1.md).

Each endpoint module registers its routes on ``bp`` and its OpenAPI description when imported.
"""

from voucher.api import openapi, provider, provider_openapi, public  # noqa: F401
from voucher.api.common import bp

__all__ = ["bp"]
