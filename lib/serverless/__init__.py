"""Serverless and messaging: Lambda functions with deterministic packaging (`functions`), the API
Gateway HTTP API (`http_api`), EventBridge Scheduler jobs (`scheduler`), SQS queues with
dead-letter queues and SNS topics (`messaging`).
"""
