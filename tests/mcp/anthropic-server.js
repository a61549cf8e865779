// anthropic-server.js - a scripted Anthropic Messages API on 127.0.0.1,
// for running the real Claude Code CLI offline (tests/e2e/claude.bats).
//
//   node anthropic-server.js --port-file FILE --script SCRIPT.json --log LOG
//
// It listens on an ephemeral port of 127.0.0.1 and writes the port to
// FILE. Each POST /v1/messages of the conversation (a request whose
// tools include the ones the script calls) is answered, as server-sent
// events the way the real API streams them, with the script's step
// number N, where N is how many assistant turns the request already
// holds. A step is {"tool": NAME, "input": {...}} (a tool_use block,
// stop_reason tool_use) or {"text": "..."} (the final answer). A step
// may also say {"expect": "TEXT"}: it is given only when TEXT occurs in
// what the model sees new at that turn (the system prompt and the
// messages after the last assistant turn, as JSON text); otherwise the
// answer is the text "unexpected: turn N lacks TEXT", which ends the
// conversation, so the test sees the script was not followed. Any other
// request (a side query of Claude Code's) gets the text "ok".
// LOG gets one JSON line per request: the turn, the tool names offered,
// the system prompt, the last user message (where tool results are) and
// whether the step's expect was met.
'use strict';

const fs = require('fs');
const http = require('http');

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2)
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const script = JSON.parse(fs.readFileSync(args.script, 'utf8'));
const scriptTools = new Set(script.filter((s) => s.tool).map((s) => s.tool));
let ids = 0;

function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events)
    res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  res.end();
}

function answer(res, step) {
  const id = `msg_${++ids}`;
  const usage = { input_tokens: 10, output_tokens: 1, cache_creation_input_tokens: 0,
                  cache_read_input_tokens: 0 };
  const events = [{ type: 'message_start', message: { id, type: 'message', role: 'assistant',
    model: 'claude-scripted', content: [], stop_reason: null, stop_sequence: null, usage } }];
  if (step.tool) {
    events.push(
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use',
        id: `toolu_${ids}`, name: step.tool, input: {} } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta',
        partial_json: JSON.stringify(step.input || {}) } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: 5 } });
  } else {
    events.push(
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: step.text } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 5 } });
  }
  events.push({ type: 'message_stop' });
  sse(res, events);
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url.startsWith('/v1/messages') ||
        req.url.startsWith('/v1/messages/count_tokens')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error',
        message: 'not scripted' } }));
      return;
    }
    let msg;
    try {
      msg = JSON.parse(body);
    } catch (e) {
      res.writeHead(400);
      res.end();
      return;
    }
    const tools = (msg.tools || []).map((t) => t.name);
    const messages = msg.messages || [];
    const turn = messages.filter((m) => m.role === 'assistant').length;
    const ours = [...scriptTools].every((t) => tools.includes(t));
    const system = Array.isArray(msg.system) ?
      msg.system.map((s) => s.text || '').join('\n') : String(msg.system || '');
    const step = ours && turn < script.length ? script[turn] : null;
    let lastAssistant = -1;
    messages.forEach((m, i) => { if (m.role === 'assistant') lastAssistant = i; });
    const fresh = system + '\n' + JSON.stringify(messages.slice(lastAssistant + 1));
    const met = step && step.expect !== undefined ? fresh.includes(step.expect) : null;
    fs.appendFileSync(args.log, JSON.stringify({ turn, ours, tools, system,
      last: messages.length ? messages[messages.length - 1] : null, met }) + '\n');
    if (!step) {
      answer(res, { text: 'ok' });
      return;
    }
    if (met === false) {
      answer(res, { text: `unexpected: turn ${turn} lacks ${JSON.stringify(step.expect)}` });
      return;
    }
    answer(res, step);
  });
});

server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(args['port-file'] + '.tmp', String(server.address().port));
  fs.renameSync(args['port-file'] + '.tmp', args['port-file']);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
