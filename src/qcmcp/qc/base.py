"""Base class for the generated API models.

``defer_build`` postpones building each model's validator until it is first used, so
importing the 200-odd generated models stays cheap and server start-up stays fast.
"""

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """Common configuration for every model generated from the QuantConnect spec."""

    model_config = ConfigDict(defer_build=True)
