"""Notifications on a dedicated connection: ``listen``, ``unlisten``, ``notifies``."""
from scratchbird.notify._messages import Notification
from scratchbird.notify._mixin import NotifyMixin

__all__ = ["Notification", "NotifyMixin"]
