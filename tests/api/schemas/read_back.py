"""Reads a topic back with Confluent's own Python client and its Schema Registry deserializers
(an implementation independent of the service), and prints each record as one JSON line:
{"partition", "offset", "key", "value", "schema_ids": [key id, value id]}.

    python3 read_back.py BOOTSTRAP REGISTRY_URL TOPIC COUNT KEY_KIND VALUE_KIND [PROTO_FILE]

A kind is `string`, `avro`, `json` or `protobuf:<Message>` (a message of PROTO_FILE, which is
compiled with grpcio-tools' protoc into a module first).
"""
import base64
import datetime
import decimal
import importlib
import json
import os
import struct
import sys
import tempfile

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf.json_format import MessageToDict

bootstrap, registry_url, topic, count, key_kind, value_kind = sys.argv[1:7]
proto_file = sys.argv[7] if len(sys.argv) > 7 else None
count = int(count)
registry = SchemaRegistryClient({"url": registry_url})


def proto_module():
    from grpc_tools import protoc

    out = tempfile.mkdtemp()
    folder, name = os.path.split(os.path.abspath(proto_file))
    if protoc.main(["protoc", f"-I{folder}", f"--python_out={out}", name]) != 0:
        raise SystemExit(f"protoc failed on {proto_file}")
    sys.path.insert(0, out)
    return importlib.import_module(name[: -len(".proto")] + "_pb2")


def deserializer(kind):
    if kind == "string":
        return lambda data, ctx: None if data is None else data.decode("utf-8")
    if kind == "avro":
        return AvroDeserializer(registry)
    if kind == "json":
        return JSONDeserializer(None, schema_registry_client=registry)
    if kind.startswith("protobuf:"):
        message = getattr(proto_module(), kind.split(":", 1)[1])
        inner = ProtobufDeserializer(message, {"use.deprecated.format": False})
        return lambda data, ctx: None if data is None else MessageToDict(
            inner(data, ctx), preserving_proto_field_name=True)
    raise SystemExit(f"unknown kind {kind}")


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime.datetime):
        return {"datetime": value.astimezone(datetime.timezone.utc).isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode()}
    return value


def schema_id(data):
    if data is None or len(data) < 5 or data[0] != 0:
        return None
    return struct.unpack(">I", data[1:5])[0]


keys, values = deserializer(key_kind), deserializer(value_kind)
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": f"read-back-{os.getpid()}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
consumer.subscribe([topic])
read, idle = 0, 0
while read < count and idle < 30:
    message = consumer.poll(1.0)
    if message is None:
        idle += 1
        continue
    if message.error():
        raise SystemExit(str(message.error()))
    idle = 0
    key_ctx = SerializationContext(topic, MessageField.KEY)
    value_ctx = SerializationContext(topic, MessageField.VALUE)
    print(json.dumps({
        "partition": message.partition(),
        "offset": message.offset(),
        "key": plain(keys(message.key(), key_ctx)),
        "value": plain(values(message.value(), value_ctx)),
        "schema_ids": [schema_id(message.key()), schema_id(message.value())],
    }), flush=True)
    read += 1
consumer.close()
