"""FinMatch 银企融资对接服务."""

__version__ = "0.1.0"
