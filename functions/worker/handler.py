"""The worker function: consumes the processing queue (SQS event source, partial batch responses).

A starting point: replace `process` with the application's job. A message whose processing raises
is reported as failed alone; SQS retries it and, after the queue's max receives, moves it to the
dead-letter queue.
"""

import json


def process(message: dict) -> None:
    print(json.dumps({"processed": message.get("id")}))


def handler(event, context):
    failures = []
    for record in event.get("Records", []):
        try:
            process(json.loads(record["body"]))
        except Exception:  # noqa: BLE001  (report the record, keep the batch going)
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
