"""A small SMTP server for `make faults`: it accepts every message and writes its Message-ID
to a file, one line each, so the fault run can count what arrived and how often.

    python -m tests.benchmarks.smtp_sink --port 8025 --log /tmp/sink.log [--delay 0.5]

`--delay` makes it think before accepting each message (a slow mail server, so that a worker
can be killed mid-send). Like any SMTP server it takes a message only when it answers the
final "250": a client that has gone before that answer has not handed the message over, and
the message is written as "dropped" instead of "accepted".
"""

import argparse
import asyncio
import os


def record(path, outcome, message_id):
    with open(path, "a", encoding="utf-8") as log:
        log.write(f"{outcome} {message_id}\n")
        log.flush()
        os.fsync(log.fileno())


def message_id_of(lines):
    for line in lines:
        if not line.strip():
            break  # end of the headers
        name, _colon, value = line.decode("utf-8", "replace").partition(":")
        if name.strip().lower() == "message-id":
            return value.strip()
    return "<none>"


def handler(log_path, delay):
    async def session(reader, writer):
        def reply(text):
            writer.write(f"{text}\r\n".encode())

        reply("220 sink ESMTP")
        await writer.drain()
        while line := await reader.readline():
            verb = line.decode("ascii", "replace").strip()[:4].upper()
            if verb == "EHLO":
                reply("250-sink")
                reply("250 8BITMIME")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                reply("250 OK")
            elif verb == "DATA":
                reply("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                lines = []
                while (data := await reader.readline()) not in (b".\r\n", b".\n"):
                    if not data:
                        return  # the client went away mid-message
                    lines.append(data)
                message_id = message_id_of(lines)
                await asyncio.sleep(delay)
                if reader.at_eof():
                    record(log_path, "dropped", message_id)
                    return
                record(log_path, "accepted", message_id)
                reply("250 OK")
            elif verb == "QUIT":
                reply("221 Bye")
                await writer.drain()
                break
            else:
                reply("502 Command not implemented")
            await writer.drain()
        writer.close()

    return session


async def serve(port, log_path, delay):
    server = await asyncio.start_server(handler(log_path, delay), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.port, arguments.log, arguments.delay))


if __name__ == "__main__":
    main()
