"""Create the queues weir's examples use: orders + orders-dlq, and a FIFO pair.

LocalStack runs this file itself when it is ready (Docker mode mounts this folder at
/etc/localstack/init/ready.d); `localstack/up` runs it with the venv's Python in host
mode. It is idempotent: CreateQueue with the same attributes returns the existing queue.
"""

import json
import os

import boto3

endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://localhost:4566")
sqs = boto3.client(
    "sqs",
    endpoint_url=endpoint,
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    aws_access_key_id="test",
    aws_secret_access_key="test",
)


def pair(name, dlq_name, fifo):
    extra = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq_url = sqs.create_queue(
        QueueName=dlq_name,
        Attributes={"MessageRetentionPeriod": "1209600", **extra},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": "30", "RedrivePolicy": redrive, **extra},
    )["QueueUrl"]
    print(f"ready: {url} (dead letters to {dlq_url})")


pair("orders", "orders-dlq", fifo=False)
pair("orders.fifo", "orders-dlq.fifo", fifo=True)
