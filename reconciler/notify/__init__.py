"""Notifications: events recorded in the state, grouped into messages, sent per channel."""
