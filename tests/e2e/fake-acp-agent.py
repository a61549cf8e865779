#!/usr/bin/env python3
"""A small ACP agent for the protocol's edge cases (tests/e2e/acp.bats).

Newline-delimited JSON-RPC 2.0 on stdin/stdout, as the real agents speak
it. What a turn does is chosen by the prompt's first word:

  pid           answers with its process id (warm reuse shows as one pid)
  crash         exits with code 3 in the middle of the turn
  hang          never answers, ignores session/cancel
  sleep         never answers until session/cancel, then stopReason cancelled
  garbage       writes lines that are not JSON-RPC, then answers
  huge          one line of 9 MB (past squad's bound), then answers
  ooo           an answer to an id squad never sent, a notification of
                another session, then the real answer
  malformed     a JSON-RPC 1.0 line and a request without a method, then answers
  ratelimit     answers session/prompt with a JSON-RPC error "429 Too Many Requests"
  refuse        ends the turn with stopReason refusal
  tool CMD...   asks permission to run CMD; runs it (argv, no shell) if allowed
  tools N       reports N read tool calls (no permission asked), then answers
  fail CMD...   asks permission to run CMD, then answers with a JSON-RPC error
  quiet         answers without reporting any usage
  write PATH    asks squad to write PATH (fs/write_text_file)
  read PATH     asks squad to read PATH (fs/read_text_file), answers with it
  session       answers "session ID in CWD", the session and its folder, and
                "REUSED" when the session had a prompt before
  anything else answers "echo: PROMPT"

FAKE_ACP_LOG (a file): one line "start PID" per process start.
FAKE_ACP_FAIL_INIT=1: answers initialize with an error.
"""
import json
import os
import shlex
import subprocess
import sys
import time

out = sys.stdout
pending = {}      # our request id -> callback
next_id = [100]
sessions = 0
cwds = {}         # session id -> its folder
prompted = set()  # sessions that had a prompt


def send(msg):
    msg["jsonrpc"] = "2.0"
    out.write(json.dumps(msg) + "\n")
    out.flush()


def update(session, upd):
    send({"method": "session/update", "params": {"sessionId": session, "update": upd}})


def say(session, text, usage=True):
    upd = {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": text}}
    if usage:
        upd["_meta"] = {"usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}}
    update(session, upd)


def request(method, params, then):
    next_id[0] += 1
    pending[next_id[0]] = then
    send({"id": next_id[0], "method": method, "params": params})


def end(rid, reason="end_turn"):
    send({"id": rid, "result": {"stopReason": reason}})


def prompt(rid, session, text):
    word = text.split(" ", 1)[0] if text else ""
    rest = text.split(" ", 1)[1] if " " in text else ""
    if word == "pid":
        say(session, "pid %d" % os.getpid())
        end(rid)
    elif word == "crash":
        say(session, "about to crash")
        os._exit(3)
    elif word == "hang":
        state["ignore_cancel"] = True
    elif word == "sleep":
        state["cancel_rid"] = rid
    elif word == "garbage":
        out.write("this is not json\n\x1b[31mnor this\x1b[0m\n{\"half\": \n")
        out.flush()
        say(session, "fine after garbage")
        end(rid)
    elif word == "huge":
        update(session, {"sessionUpdate": "agent_message_chunk",
                         "content": {"type": "text", "text": "x" * (9 << 20)}})
        say(session, "fine after huge")
        end(rid)
    elif word == "ooo":
        send({"id": 987654, "result": {"stopReason": "end_turn"}})
        update("not-a-session", {"sessionUpdate": "agent_message_chunk",
                                 "content": {"type": "text", "text": "WRONG"}})
        say(session, "in order")
        end(rid)
    elif word == "malformed":
        out.write('{"jsonrpc":"1.0","id":5,"result":{}}\n{"jsonrpc":"2.0","id":6}\n')
        out.flush()
        say(session, "fine after malformed")
        end(rid)
    elif word == "ratelimit":
        send({"id": rid, "error": {"code": -32603, "message": "429 Too Many Requests: rate limit exceeded"}})
    elif word == "refuse":
        end(rid, "refusal")
    elif word == "tool":
        call = {"toolCallId": "t1", "title": rest, "kind": "execute",
                "status": "pending", "rawInput": {"command": rest}}
        update(session, dict(call, sessionUpdate="tool_call"))

        def decided(msg):
            outcome = msg.get("result", {}).get("outcome", {})
            ok = outcome.get("optionId") == "allow"
            if ok:
                subprocess.run(shlex.split(rest), check=False)
            update(session, {"sessionUpdate": "tool_call_update", "toolCallId": "t1",
                             "status": "completed" if ok else "failed"})
            say(session, "ran it" if ok else "was not allowed")
            end(rid)
        request("session/request_permission", {
            "sessionId": session, "toolCall": call,
            "options": [{"optionId": "allow", "name": "Allow", "kind": "allow_once"},
                        {"optionId": "reject", "name": "Reject", "kind": "reject_once"}]},
            decided)
    elif word == "tools":
        for i in range(int(rest)):
            call = {"toolCallId": "r%d" % i, "title": "Read file %d" % i, "kind": "read",
                    "status": "pending", "locations": [{"path": "file%d.txt" % i}]}
            update(session, dict(call, sessionUpdate="tool_call"))
            update(session, {"sessionUpdate": "tool_call_update", "toolCallId": "r%d" % i,
                             "status": "completed"})
        say(session, "read %s files" % rest)
        end(rid)
    elif word == "fail":
        call = {"toolCallId": "f1", "title": "Run " + rest, "kind": "execute",
                "status": "pending", "rawInput": {"command": rest}}
        update(session, dict(call, sessionUpdate="tool_call"))

        def refused(msg):
            update(session, {"sessionUpdate": "tool_call_update", "toolCallId": "f1",
                             "status": "failed"})
            send({"id": rid, "error": {"code": -32603, "message": "gave up: the command was refused"}})
        request("session/request_permission", {
            "sessionId": session, "toolCall": call,
            "options": [{"optionId": "allow", "name": "Allow", "kind": "allow_once"},
                        {"optionId": "reject", "name": "Reject", "kind": "reject_once"}]},
            refused)
    elif word == "quiet":
        say(session, "said nothing of usage", usage=False)
        end(rid)
    elif word == "write":
        def written(msg):
            say(session, "written" if "result" in msg else "refused: " + msg["error"]["message"])
            end(rid)
        request("fs/write_text_file", {"sessionId": session, "path": rest, "content": "agent\n"},
                written)
    elif word == "read":
        def got(msg):
            say(session, msg["result"]["content"] if "result" in msg
                else "refused: " + msg["error"]["message"])
            end(rid)
        request("fs/read_text_file", {"sessionId": session, "path": rest}, got)
    elif word == "session":
        say(session, "session %s in %s%s" % (session, cwds.get(session, "?"),
                                             " REUSED" if session in prompted else ""))
        end(rid)
    else:
        say(session, "echo: " + text)
        end(rid)
    prompted.add(session)


state = {}


def main():
    global sessions
    if os.environ.get("FAKE_ACP_LOG"):
        with open(os.environ["FAKE_ACP_LOG"], "a") as f:
            f.write("start %d\n" % os.getpid())
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "method" not in msg:
            cb = pending.pop(msg.get("id"), None)
            if cb:
                cb(msg)
            continue
        method, rid, params = msg["method"], msg.get("id"), msg.get("params", {})
        if method == "initialize":
            if os.environ.get("FAKE_ACP_FAIL_INIT"):
                send({"id": rid, "error": {"code": -32000, "message": "no credentials"}})
                continue
            send({"id": rid, "result": {"protocolVersion": 1, "agentCapabilities": {},
                                        "authMethods": []}})
        elif method == "session/new":
            sessions += 1
            cwds["s%d" % sessions] = params.get("cwd", "?")
            send({"id": rid, "result": {"sessionId": "s%d" % sessions}})
        elif method == "session/prompt":
            text = "".join(p.get("text", "") for p in params.get("prompt", []))
            prompt(rid, params["sessionId"], text)
        elif method == "session/cancel":
            if state.get("ignore_cancel"):
                continue
            if "cancel_rid" in state:
                end(state.pop("cancel_rid"), "cancelled")
        elif rid is not None:
            send({"id": rid, "error": {"code": -32601, "message": "unknown " + method}})


if __name__ == "__main__":
    main()
