#!/usr/bin/python3
"""A gRPC client on another HTTP/2 stack: Python's grpcio (gRPC C-core, its own
HTTP/2 implementation, not nghttp2), Debian's python3-grpcio. It calls
sluice.test.Echo (echo.proto) over plaintext HTTP/2 and prints one JSON line:
    {"code": N, "code_name": "...", "details": "...", "messages": [...]}
where messages are the replies decoded as {"payload", "count", "text"}.

Nothing is generated: methods are called with raw bytes (no serializers) and
the few protobuf fields of echo.proto are coded here by hand.

    /usr/bin/python3 grpc_python_client.py MODE TARGET ARGS...

    unary TARGET TEXT                  one echo of TEXT
    status TARGET CODE MESSAGE         the server answers CODE and MESSAGE
    server-stream TARGET N             N replies
    deadline TARGET DELAY_MS DEADLINE_MS
                                       the server waits DELAY_MS; the call's
                                       deadline is DEADLINE_MS

Every call has a deadline (10 s unless the mode sets one).
"""
import json
import sys

import grpc


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field_varint(number, v):
    return varint(number << 3) + varint(v)


def field_bytes(number, b):
    return varint((number << 3) | 2) + varint(len(b)) + b


def echo_request(payload=b"", count=0, text="", status_code=0, status_message="", delay_ms=0):
    """EchoRequest: payload=1 bytes, count=2, text=3, reply_status=4 {code=1,
    message=2}, delay_ms=5."""
    out = b""
    if payload:
        out += field_bytes(1, payload)
    if count:
        out += field_varint(2, count)
    if text:
        out += field_bytes(3, text.encode())
    if status_code:
        out += field_bytes(4, field_varint(1, status_code) + field_bytes(2, status_message.encode()))
    if delay_ms:
        out += field_varint(5, delay_ms)
    return out


def read_varint(b, at):
    v, shift = 0, 0
    while True:
        byte = b[at]
        at += 1
        v |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return v, at


def echo_reply(b):
    """EchoReply: payload=1 bytes, count=2, text=3 (others skipped)."""
    reply = {"payload": "", "count": 0, "text": ""}
    at = 0
    while at < len(b):
        key, at = read_varint(b, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            v, at = read_varint(b, at)
            if number == 2:
                reply["count"] = v
        elif wire == 2:
            n, at = read_varint(b, at)
            data = b[at:at + n]
            at += n
            if number == 1:
                reply["payload"] = data.decode("latin-1")
            elif number == 3:
                reply["text"] = data.decode()
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return reply


def main(argv):
    mode, target, args = argv[1], argv[2], argv[3:]
    result = {"code": 0, "code_name": "OK", "details": "", "messages": []}
    with grpc.insecure_channel(target) as channel:
        unary = channel.unary_unary("/sluice.test.Echo/Unary")
        try:
            if mode == "unary":
                result["messages"].append(echo_reply(unary(echo_request(text=args[0], count=7), timeout=10)))
            elif mode == "status":
                unary(echo_request(status_code=int(args[0]), status_message=args[1]), timeout=10)
            elif mode == "server-stream":
                stream = channel.unary_stream("/sluice.test.Echo/ServerStream")
                for reply in stream(echo_request(payload=b"p", count=int(args[0])), timeout=10):
                    result["messages"].append(echo_reply(reply))
            elif mode == "deadline":
                unary(echo_request(delay_ms=int(args[0])), timeout=int(args[1]) / 1000.0)
            else:
                raise SystemExit("unknown mode " + mode)
        except grpc.RpcError as e:
            result["code"] = e.code().value[0]
            result["code_name"] = e.code().name
            result["details"] = e.details() or ""
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
