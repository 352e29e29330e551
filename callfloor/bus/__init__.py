"""The MQTT event bus: an embedded amqtt broker and a never-blocking publisher over aiomqtt."""

from __future__ import annotations

from callfloor.bus.broker import EmbeddedBroker, free_tcp_port
from callfloor.bus.errors import BusError
from callfloor.bus.mqtt import BusMessage, BusOpener, EventBus, EventKind, Subscription, open_bus

__all__ = [
    "BusError",
    "BusMessage",
    "BusOpener",
    "EmbeddedBroker",
    "EventBus",
    "EventKind",
    "Subscription",
    "free_tcp_port",
    "open_bus",
]
