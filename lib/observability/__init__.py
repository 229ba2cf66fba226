"""Observability: metric alarms to the alerts topic and the dashboard (`alarms`).
"""
