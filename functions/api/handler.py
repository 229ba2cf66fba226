"""The API function behind API Gateway (HTTP API, payload format 2.0).

A starting point: replace with the application's handlers. It answers a health check and echoes
the route, so a fresh deploy can be smoke-tested with curl.
"""

import json
import os


def handler(event, context):
    path = event.get("rawPath", "/")
    body = {"ok": True, "path": path, "environment": os.environ.get("ENVIRONMENT", "")}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(body)}
