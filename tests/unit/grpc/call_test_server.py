#!/usr/bin/python3
"""A gRPC server on an HTTP/2 stack independent of ours (Python's grpcio,
gRPC C-core) for grpc::Call's tests. Raw bytes, no generated code: the
methods of service t.T are told apart by name.

    /usr/bin/python3 call_test_server.py     prints "listening PORT", then
                                            one line per event below

    /t.T/Echo   unary: answers "<authorization>|<grpc-timeout seen>|<request>"
    /t.T/Big    unary: one message of N bytes, N the request's decimal text
                (far beyond a flow-control window: it must be given back)
    /t.T/Many   server stream: the request's decimal text of 1 KiB messages
    /t.T/Fail   unary: aborts UNAVAILABLE with the request as its message
    /t.T/Hold   bidi: sends its headers, then waits; prints "cancelled" when
                the client gives the call up
"""
import sys
import threading
from concurrent import futures

import grpc


def echo(request, context):
    md = dict(context.invocation_metadata())
    remaining = context.time_remaining()
    timeout = "none" if remaining is None or remaining > 1e6 else "set"
    return md.get("authorization", "").encode() + b"|" + timeout.encode() + b"|" + request


def big(request, context):
    return b"b" * int(request)


def many(request, context):
    for i in range(int(request)):
        yield bytes([65 + i % 26]) * 1024


def fail(request, context):
    context.abort(grpc.StatusCode.UNAVAILABLE, request.decode())


def hold(request_iterator, context):
    done = threading.Event()

    def gone():
        print("cancelled" if not context.is_active() else "ended", flush=True)
        done.set()

    context.add_callback(gone)
    context.send_initial_metadata(())
    print("holding", flush=True)
    for _ in request_iterator:
        pass
    done.wait(30)
    return iter(())


def main():
    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Big": grpc.unary_unary_rpc_method_handler(big),
        "Many": grpc.unary_stream_rpc_method_handler(many),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Hold": grpc.stream_stream_rpc_method_handler(hold),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_send_message_length", 64 << 20)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.T", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print("listening", port, flush=True)
    sys.stdin.read()  # until the test closes our stdin
    server.stop(0)


if __name__ == "__main__":
    main()
