"""Webhooks for responsible units: subscriptions, the stored outbox, signed deliveries, and the
check of where a delivery may go (`targets`).
"""
