"""Notifications: a pass's events told to the channels that want them, sent by an outbox.

- ``announce`` and ``events``: which notifications an event (``reconciler.core.events``)
  makes, one per subscribed channel, recorded once; ``channels``: a pipeline's channels.
- ``outbox``: recorded, claimed and sent at least once; ``messages``: claimed rows
  grouped into messages; ``dispatch`` with ``slack``, ``webhook``, ``mail``, ``stdout``
  and ``http``: sending them; ``failed``: what will not be sent, for ``status``.
"""
