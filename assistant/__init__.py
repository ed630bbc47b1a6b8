"""Notice Assistant: answers questions about official notices, citing the exact measure."""

__version__ = "0.1.0"
